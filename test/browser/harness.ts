// Headless Chromium with WebGPU on Mesa llvmpipe (see /work/shared/reference/browser-webgpu.md): launches the
// system chromium through playwright-core (never a downloaded browser), bundles TypeScript entries with esbuild
// and serves them from http://localhost through page.route (a secure context, so navigator.gpu exists).

import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { bundleForBrowser } from '../../src/web/build.ts';

export { bundleForBrowser };

export const CHROMIUM_PATH = process.env.ADAPTC_CHROMIUM ?? '/usr/bin/chromium';

/**
 * ANGLE on Mesa (lavapipe/llvmpipe) as the GPU process's GL, Dawn's OpenGLES backend on top, compat feature level
 * for a plain requestAdapter(), and adapter names exposed. No --enable-unsafe-webgpu: it would silently fall back
 * to SwiftShader when Mesa is missing, and no --disable-gpu: it removes the llvmpipe adapter.
 */
export const WEBGPU_ARGS = [
  '--use-angle=vulkan',
  '--use-webgpu-adapter=opengles',
  '--force-webgpu-compat',
  '--enable-webgpu-developer-features',
  '--disable-quic',
  '--disable-sync',
  '--no-first-run',
  '--disable-component-update',
];

export const ORIGIN = 'http://localhost';

export function launchWebGpuBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: WEBGPU_ARGS });
}

/**
 * One browser for the file, closed after it. A launch failure fails every test that calls the accessor (a
 * throwing beforeAll would only mark them skipped).
 */
export function useWebGpuBrowser(): () => Browser {
  let browser: Browser | undefined;
  let launchError: unknown;
  beforeAll(async () => {
    browser = await launchWebGpuBrowser().catch((error: unknown) => {
      launchError = error;
      return undefined;
    });
  });
  afterAll(async () => {
    await browser?.close();
  });
  return () => {
    if (!browser) throw launchError ?? new Error('useWebGpuBrowser() accessor called outside a test');
    return browser;
  };
}

export type SiteFiles = Readonly<Record<string, string>>;

const CONTENT_TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript' };

/** Serves `files` (URL path → body) at ORIGIN and answers anything else with 404. */
export async function serve(page: Page, files: SiteFiles): Promise<void> {
  await page.route(`${ORIGIN}/**`, (route) => {
    const path = new URL(route.request().url()).pathname;
    const body = files[path];
    if (body === undefined) return route.fulfill({ status: 404, body: `not served: ${path}` });
    const extension = path.slice(path.lastIndexOf('.'));
    return route.fulfill({ body, contentType: CONTENT_TYPES[extension] ?? 'application/octet-stream' });
  });
}

/**
 * Opens a page that loads the bundled `entry` as a module and waits until the module has published
 * `globalThis[readyGlobal]`. Page errors and console errors are collected for the test to report.
 */
export async function openModulePage(
  browser: Browser,
  entry: string,
  readyGlobal: string,
): Promise<{ page: Page; bundle: string; errors: string[] }> {
  const bundle = await bundleForBrowser(entry);
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  await serve(page, {
    '/index.html': '<!doctype html><meta charset="utf-8"><script type="module" src="/entry.js"></script>',
    '/entry.js': bundle,
  });
  await page.goto(`${ORIGIN}/index.html`);
  await page.waitForFunction((name) => name in globalThis, readyGlobal, { timeout: 30_000 });
  return { page, bundle, errors };
}
