// `npm run assets`: regenerates examples/assets (or the folder given) from the seed, training every bundled
// adapter, head and the seed-fusion example's fusion on WebGPU when a device is found (else on the
// reference interpreter).
import { resolve } from 'node:path';
import type { BackendFactory } from '../train/backend.ts';
import { referenceBackend, webgpuBackend } from '../train/backend.ts';
import { BUNDLED_ASSETS_DIR } from './paths.ts';
import { writeBundledAssets } from './write.ts';

const target = resolve(process.argv[2] ?? BUNDLED_ASSETS_DIR);
let backend: BackendFactory = referenceBackend;
let release: () => void = () => undefined;
let where = 'the reference interpreter';
try {
  const { acquireNodeDevice } = await import('../runtime/webgpu/device-node.ts');
  const device = await acquireNodeDevice();
  backend = webgpuBackend(device);
  release = () => device.release();
  where = `WebGPU (${device.adapterInfo.description})`;
} catch {
  // no WebGPU adapter: train on the CPU
}
const started = performance.now();
process.stdout.write(`training on ${where}\n`);
try {
  await writeBundledAssets(target, { backend, log: (line) => process.stdout.write(`${line}\n`) });
} finally {
  release();
}
const seconds = ((performance.now() - started) / 1000).toFixed(0);
process.stdout.write(
  `wrote the bundled model, adapter store and seed-fusion modules to ${target} in ${seconds} s\n`,
);
