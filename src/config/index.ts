// AdapterHub configuration handling: adapter, fusion and head configs, config strings and the config hash.
export * from './adapter.ts';
export * from './config-string.ts';
export * from './fields.ts';
export * from './fusion.ts';
export * from './hash.ts';
export * from './head.ts';
export * from './python-json.ts';
export type * from './types.ts';
