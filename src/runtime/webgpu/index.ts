// Browser-safe entry: device acquisition and the executor. Node callers add device-node.ts (Dawn) themselves.
export * from './device.ts';
export * from './executor.ts';
