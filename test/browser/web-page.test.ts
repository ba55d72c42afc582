// The browser page (examples/web/) as `adaptc web` builds it: served as built, opened in headless Chromium on
// llvmpipe, and every head's logits and last_hidden_state of every scenario compared with Node's WebGPU runtime
// on the same token ids.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLES_DIR } from '../../src/bundled/paths.ts';
import { inputsFromJson } from '../../src/runtime/io.ts';
import { acquireNodeDevice } from '../../src/runtime/webgpu/device-node.ts';
import { loadModel } from '../../src/runtime/webgpu/load-node.ts';
import { buildSite } from '../../src/web/build.ts';
import type { PageResults, SiteManifest } from '../../src/web/site.ts';
import { ORIGIN, useWebGpuBrowser } from './harness.ts';

const TOLERANCE = 1e-4;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.json': 'application/json',
};

function filesUnder(root: string, dir = root): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) for (const [k, v] of filesUnder(root, path)) files.set(k, v);
    else files.set(`/${relative(root, path).split('\\').join('/')}`, readFileSync(path));
  }
  return files;
}

/** Largest |a − b| − tolerance·max(1, |b|) over the elements: ≤ 0 when every element is within 1e-4 rel/abs. */
function excess(actual: readonly number[], expected: ArrayLike<number>): { excess: number; maxAbs: number } {
  let worst = Number.NEGATIVE_INFINITY;
  let maxAbs = 0;
  for (let i = 0; i < expected.length; i++) {
    const diff = Math.abs(actual[i] - expected[i]);
    maxAbs = Math.max(maxAbs, diff);
    worst = Math.max(
      worst,
      Number.isNaN(diff) ? Number.POSITIVE_INFINITY : diff - TOLERANCE * Math.max(1, Math.abs(expected[i])),
    );
  }
  return { excess: worst, maxAbs };
}

describe('the browser page (examples/web/)', () => {
  const browser = useWebGpuBrowser();
  let siteDir: string;
  beforeAll(() => {
    siteDir = mkdtempSync(join(tmpdir(), 'adaptc-web-test-'));
  });
  afterAll(() => {
    rmSync(siteDir, { recursive: true, force: true });
  });

  it('runs every scenario on llvmpipe in Chromium with the numbers of Node', async () => {
    await buildSite(siteDir);
    const files = filesUnder(siteDir);
    const site = JSON.parse(files.get('/scenarios.json')!.toString('utf8')) as SiteManifest;
    expect(site.scenarios.map((s) => s.name)).toEqual(['sst2', 'seed-fusion', 'parallel', 'adapterdrop']);
    expect(files.get('/app.js')!.toString('utf8')).not.toMatch(
      /dawn\.node|from ['"]webgpu['"]|from ['"]node:/,
    );

    const page = await browser().newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    await page.route(`${ORIGIN}/**`, (route) => {
      const path = new URL(route.request().url()).pathname;
      const body = files.get(path === '/' ? '/index.html' : path);
      if (body === undefined) return route.fulfill({ status: 404, body: `not served: ${path}` });
      const extension = path.slice(path.lastIndexOf('.'));
      return route.fulfill({ body, contentType: CONTENT_TYPES[extension] ?? 'application/octet-stream' });
    });
    await page.goto(`${ORIGIN}/index.html`);
    await page.waitForFunction(() => document.body.dataset.state !== 'loading', undefined, {
      timeout: 60_000,
    });
    const state = await page.evaluate(() => document.body.dataset.state);
    const pageError = await page.evaluate(() => (window as { adaptcError?: string }).adaptcError);
    expect({ state, pageError, errors }).toEqual({ state: 'done', pageError: undefined, errors: [] });
    const results = (await page.evaluate(
      () => (window as { adaptcResults?: unknown }).adaptcResults,
    )) as PageResults;
    expect(results.adapter.backend).toBe('browser');
    expect(results.adapter.description).toMatch(/llvmpipe/);
    // The table shows one row per scenario with each head's label names.
    expect(await page.locator('tr[data-scenario]').count()).toBe(site.scenarios.length);
    expect(await page.locator('tr[data-scenario="sst2"]').textContent()).toMatch(/negative [01]\.\d{3}/);
    await page.close();

    const device = await acquireNodeDevice();
    try {
      for (const scenario of site.scenarios) {
        const result = results.scenarios.find((r) => r.name === scenario.name)!;
        expect(result, scenario.name).toBeDefined();
        for (const timing of [result.loadMs, result.firstRunMs, result.warmRunMs]) {
          expect(timing).toBeGreaterThanOrEqual(0);
        }
        const model = await loadModel(join(EXAMPLES_DIR, `${scenario.name}.adapt`), { device });
        try {
          const { outputs } = await model.run(inputsFromJson(scenario.inputs));
          const compared = [...scenario.heads.map((h) => h.output), 'last_hidden_state'];
          expect(compared.length).toBeGreaterThan(1);
          for (const name of compared) {
            const node = outputs.get(name)!;
            const browserTensor = result.outputs[name];
            expect(browserTensor, `${scenario.name}: ${name}`).toBeDefined();
            expect(browserTensor.shape, `${scenario.name}: ${name}`).toEqual([...node.shape]);
            const { excess: e, maxAbs } = excess(browserTensor.data, node.data);
            expect(e, `${scenario.name}: ${name} (max abs error ${maxAbs})`).toBeLessThanOrEqual(0);
          }
        } finally {
          model.release();
        }
      }
    } finally {
      device.release();
    }
  });
});
