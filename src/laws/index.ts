// Composition laws: named, documented equalities every model and adapter set should satisfy.
export * from './check.ts';
export * from './law.ts';
export * from './laws.ts';
export { passesPreserve, saveReload } from './roundtrip.ts';
export {
  compositionText,
  describeSubject,
  inputsJson,
  setupText,
  subjectFiles,
  writeSubject,
} from './source.ts';
export * from './webgpu.ts';
