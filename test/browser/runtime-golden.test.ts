// Golden cases in headless Chromium: compiled here, served as manifest + weights, run by the browser build of the
// runtime on navigator.gpu (llvmpipe), compared with the real library's numbers within 1e-4.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { serializeModel } from '../../src/runtime/webgpu/bundle.ts';
import { compileForGpu } from '../../src/runtime/webgpu/load-node.ts';
import { ADAPT_DIR, compareCase, goldenInputJson, okCases } from '../golden/cases.ts';
import { ORIGIN, openModulePage, useWebGpuBrowser } from './harness.ts';
import type { PageRun } from './runtime-page.ts';

const ENTRY = fileURLToPath(new URL('./runtime-page.ts', import.meta.url));
const CASES = okCases.map((c) => c.id);

describe('golden cases in headless Chromium', () => {
  const browser = useWebGpuBrowser();

  it(`runs all ${CASES.length} golden cases on llvmpipe within 1e-4 of the library`, async () => {
    const files = new Map<string, Buffer>();
    for (const id of CASES) {
      const { manifest, weights } = serializeModel(compileForGpu(`${ADAPT_DIR}/${id}.adapt`));
      files.set(`/models/${id}.json`, Buffer.from(JSON.stringify(manifest)));
      files.set(`/models/${id}.bin`, Buffer.from(weights.buffer, weights.byteOffset, weights.byteLength));
    }
    const { page, bundle, errors } = await openModulePage(browser(), ENTRY, 'adaptcRunModels');
    expect(bundle).not.toMatch(/dawn\.node|from ['"]webgpu['"]|from ['"]node:/);
    await page.route(`${ORIGIN}/models/**`, (route) => {
      const body = files.get(new URL(route.request().url()).pathname);
      return body ? route.fulfill({ body }) : route.fulfill({ status: 404 });
    });
    const run = await page.evaluate(
      ([ids, inputs]) =>
        (
          globalThis as unknown as {
            adaptcRunModels: (i: typeof ids, x: typeof inputs) => Promise<PageRun>;
          }
        ).adaptcRunModels(ids, inputs),
      [CASES, goldenInputJson] as const,
    );
    expect(errors).toEqual([]);
    expect(run.adapter.backend).toBe('browser');
    expect(run.adapter.description).toMatch(/llvmpipe/);
    for (const id of CASES) {
      const c = okCases.find((k) => k.id === id)!;
      for (const r of compareCase(c, new Map(Object.entries(run.results[id])))) {
        expect(r.excess, `${id}: ${r.what} (max abs error ${r.maxAbsError})`).toBeLessThanOrEqual(1e-4);
      }
    }
    await page.close();
  });
});
