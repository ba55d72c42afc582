// Browser-safe entry: device acquisition, the executor, compiled models and their manifest + weights form. Node
// callers add device-node.ts (Dawn) or load-node.ts (`loadModel('file.adapt')`) themselves.
export * from './bundle.ts';
export * from './device.ts';
export * from './executor.ts';
export * from './model.ts';
