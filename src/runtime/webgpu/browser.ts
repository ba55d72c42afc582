// The runtime's browser entry (an ES module; bundle with esbuild --format=esm --platform=browser): fetch a model
// compiled in Node (`serializeModel` → manifest JSON + weights binary) and run it on navigator.gpu; training
// graphs run the same way through a GpuGraphRunner, which keeps the trainable parameters on the device.
import { deserializeModel, type ModelManifest } from './bundle.ts';
import { type AcquiredDevice, acquireDevice } from './device.ts';
import { GpuModel, type ModelOptions, type ModelSource } from './model.ts';

export { deserializeModel, type ModelManifest, serializeModel } from './bundle.ts';
export * from './device.ts';
export { GpuGraphRunner } from './graph-runner.ts';
export { GpuModel, type ModelInputs, type ModelTensor, type RunResult } from './model.ts';

export interface BrowserLoadOptions extends Omit<ModelOptions, 'ownsDevice'> {
  readonly device?: AcquiredDevice;
}

/** A serialized graph and its weights, fetched. */
export async function fetchModel(manifestUrl: string, weightsUrl: string): Promise<ModelSource> {
  const [manifest, weights] = await Promise.all([
    fetch(manifestUrl).then((r) => checked(r, manifestUrl).json() as Promise<ModelManifest>),
    fetch(weightsUrl).then((r) => checked(r, weightsUrl).arrayBuffer()),
  ]);
  return deserializeModel(manifest, weights);
}

/** `const model = await loadModel('/models/x.json', '/models/x.bin'); await model.run({ input_ids, … })` */
export async function loadModel(
  manifestUrl: string,
  weightsUrl: string,
  options: BrowserLoadOptions = {},
): Promise<GpuModel> {
  const source = await fetchModel(manifestUrl, weightsUrl);
  const device = options.device ?? (await acquireDevice());
  return GpuModel.create(source, device, {
    ...options,
    ownsDevice: options.device === undefined,
  });
}

function checked(response: Response, url: string): Response {
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response;
}
