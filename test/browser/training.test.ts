// Training in headless Chromium: both golden gradient records computed on navigator.gpu (llvmpipe) by the
// browser build of the runtime, within the library's tolerance, and AdamW steps that lower the loss.
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { trainingGraph } from '../../src/autodiff/index.ts';
import { compileFile } from '../../src/compiler.ts';
import { serializeModel } from '../../src/runtime/webgpu/bundle.ts';
import { temperatureAsInput } from '../../src/train/fusion.ts';
import { excess, goldenInputJson, gradientCases } from '../golden/cases.ts';
import { ORIGIN, openModulePage, useWebGpuBrowser } from './harness.ts';
import type { TrainingPageCase, TrainingPageRun } from './training-page.ts';

const ENTRY = fileURLToPath(new URL('./training-page.ts', import.meta.url));
const STEPS = 10;

describe('training in headless Chromium', () => {
  const browser = useWebGpuBrowser();

  it('computes the golden gradients on llvmpipe and lowers the loss with AdamW', async () => {
    const files = new Map<string, Buffer>();
    const cases: TrainingPageCase[] = gradientCases.map(([, file, record]) => {
      const id = basename(file, '.adapt');
      const compiled = compileFile(file);
      const graph = temperatureAsInput(trainingGraph(compiled.graph, compiled.program));
      const { manifest, weights } = serializeModel({ graph, weights: compiled.weights });
      files.set(`/models/${id}.json`, Buffer.from(JSON.stringify(manifest)));
      files.set(`/models/${id}.bin`, Buffer.from(weights.buffer, weights.byteOffset, weights.byteLength));
      return { id, labels: record.labels };
    });
    const { page, bundle, errors } = await openModulePage(browser(), ENTRY, 'adaptcTrainModels');
    expect(bundle).not.toMatch(/dawn\.node|from ['"]webgpu['"]|from ['"]node:/);
    await page.route(`${ORIGIN}/models/**`, (route) => {
      const body = files.get(new URL(route.request().url()).pathname);
      return body ? route.fulfill({ body }) : route.fulfill({ status: 404 });
    });
    const run = await page.evaluate(
      ([c, inputs, steps]) =>
        (
          globalThis as unknown as {
            adaptcTrainModels: (c: typeof cases, x: typeof inputs, s: number) => Promise<TrainingPageRun>;
          }
        ).adaptcTrainModels(c, inputs, steps),
      [cases, goldenInputJson, STEPS] as const,
    );
    expect(errors).toEqual([]);
    expect(run.adapter.backend).toBe('browser');
    expect(run.adapter.description).toMatch(/llvmpipe/);
    for (const [call, file, record] of gradientCases) {
      const result = run.results[basename(file, '.adapt')];
      expect(Math.abs(result.loss - record.loss), call).toBeLessThanOrEqual(1e-4);
      for (const [key, want] of Object.entries(record.grads)) {
        expect(excess(result.grads[key], want.data, 1e-3), `${call}: ${key}`).toBeLessThanOrEqual(1e-4);
      }
      expect(result.losses).toHaveLength(STEPS);
      expect(result.losses.at(-1)!, call).toBeLessThan(result.loss);
    }
    await page.close();
  });
});
