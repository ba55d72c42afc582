import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openModulePage, useWebGpuBrowser } from './harness.ts';
import type { KernelChecks } from './kernels-page.ts';

const ENTRY = fileURLToPath(new URL('./kernels-page.ts', import.meta.url));

describe('WGSL kernels in headless Chromium on navigator.gpu', () => {
  const browser = useWebGpuBrowser();

  it('runs matmul and layer norm on llvmpipe and matches the CPU', async () => {
    const { page, bundle, errors } = await openModulePage(browser(), ENTRY, 'adaptcKernelChecks');
    // The browser bundle must not drag in Dawn-for-Node.
    expect(bundle).not.toMatch(/dawn\.node|from ['"]webgpu['"]/);
    const result = await page.evaluate(() =>
      (globalThis as unknown as { adaptcKernelChecks: () => Promise<KernelChecks> }).adaptcKernelChecks(),
    );
    expect(errors).toEqual([]);
    expect(result.adapter.backend).toBe('browser');
    expect(result.adapter.description).toMatch(/llvmpipe/);
    expect(result.adapter.description).not.toMatch(/swiftshader/i);
    expect(result.maxComputeInvocationsPerWorkgroup).toBeGreaterThanOrEqual(256);
    for (const check of result.checks) {
      expect(check.relativeError, check.name).toBeLessThanOrEqual(1e-5);
    }
    expect(result.checks.map((c) => c.name)).toHaveLength(4);
    await page.close();
  });
});
