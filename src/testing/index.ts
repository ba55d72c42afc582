// adaptc/testing: fast-check arbitraries for tiny models, adapters, compositions and inputs, the helpers
// that build programs and weights in memory, and the composition laws to check them with.
export * from '../laws/index.ts';
export * from './arbitraries.ts';
export * from './model.ts';
