// The SVG of `adaptc graph examples/seed-fusion.adapt` rendered by headless Chromium: the screenshot is
// not blank and the rendered text names every adapter and the head.
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { EXAMPLES_DIR } from '../../src/bundled/paths.ts';
import { checkProgram, lower } from '../../src/compiler.ts';
import { compositionPlan, setupText } from '../../src/viz/plan.ts';
import { renderPlanSvg } from '../../src/viz/svg.ts';
import { useWebGpuBrowser } from '../browser/harness.ts';

function seedFusionSvg(): string {
  const program = checkProgram(join(EXAMPLES_DIR, 'seed-fusion.adapt'));
  const { model, graph } = lower(program);
  return renderPlanSvg(
    compositionPlan(program, graph, model.numLayers, 'examples/seed-fusion.adapt', setupText(program)),
  );
}

/** Variance of the screenshot's luminance: 0 for a single flat colour. */
async function luminanceVariance(png: Buffer, browser: Browser): Promise<number> {
  const page = await browser.newPage();
  try {
    return await page.evaluate(async (base64) => {
      const image = new Image();
      image.src = `data:image/png;base64,${base64}`;
      await image.decode();
      const canvas = new OffscreenCanvas(image.width, image.height);
      const context = canvas.getContext('2d')!;
      context.drawImage(image, 0, 0);
      const { data } = context.getImageData(0, 0, image.width, image.height);
      let sum = 0;
      let sumSquares = 0;
      const pixels = data.length / 4;
      for (let i = 0; i < data.length; i += 4) {
        const y = 0.2126 * data[i] + 0.7152 * data[i + 1] + 0.0722 * data[i + 2];
        sum += y;
        sumSquares += y * y;
      }
      return sumSquares / pixels - (sum / pixels) ** 2;
    }, png.toString('base64'));
  } finally {
    await page.close();
  }
}

describe('adaptc graph in Chromium', () => {
  const browser = useWebGpuBrowser();

  it('renders seed-fusion.adapt: not blank, names multinli, qqp, qnli and cb', async () => {
    const page = await browser().newPage();
    await page.setContent(`<!doctype html><body style="margin:0">${seedFusionSvg()}</body>`);
    const svg = page.locator('svg');
    const box = await svg.boundingBox();
    expect(box?.width).toBeGreaterThan(300);
    expect(box?.height).toBeGreaterThan(300);
    const png = await svg.screenshot();
    expect(await luminanceVariance(png, browser())).toBeGreaterThan(100);
    const texts = await page.locator('svg text').allTextContents();
    const all = texts.join('\n');
    for (const name of ['multinli', 'qqp', 'qnli', 'cb']) expect(all).toContain(name);
    expect(texts).toContain('layer 3 · dropped');
    await page.close();
  });
});
