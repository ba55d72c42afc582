// The browser page as a static site: the four bundled examples compiled here (manifest + weights per model),
// their sentences tokenized here (scenarios.json), the page's script bundled for the browser (app.js) and
// index.html. `adaptc web` builds and serves it; test/browser/web-page.test.ts opens it in Chromium.
import * as fs from 'node:fs';
import { join, resolve } from 'node:path';
import { BUNDLED_ASSETS_DIR, EXAMPLES_DIR } from '../bundled/paths.ts';
import { writeBundledAssets } from '../bundled/write.ts';
import { compileFile } from '../compiler.ts';
import type { CheckedProgram } from '../dsl/checked.ts';
import { serializeModel } from '../runtime/webgpu/bundle.ts';
import { optimizeForGpu } from '../runtime/webgpu/load-node.ts';
import { loadTokenizer } from '../tokenizer/index.ts';
import { setupText } from '../viz/plan.ts';
import type { SiteHead, SiteManifest, SiteScenario } from './site.ts';

export const WEB_DIR = join(EXAMPLES_DIR, 'web');

const SST2_SENTENCE = 'AdapterHub is awesome!';

/** The demo's scenarios (`adaptc demo`): examples/<name>.adapt on one sentence per batch row. */
export const WEB_SCENARIOS: readonly { name: string; title: string; texts: readonly string[] }[] = [
  { name: 'sst2', title: 'an sst-2 task adapter with its head', texts: [SST2_SENTENCE] },
  {
    name: 'seed-fusion',
    title: 'AdapterFusion of three adapters under a new head, no adapters in layers 0..10',
    // The tokenizer encodes single sequences, so the premise/hypothesis pair is joined by [SEP].
    texts: ['A soccer game with multiple males playing. [SEP] Some men are playing a sport.'],
  },
  {
    name: 'parallel',
    title: 'two tasks in one forward pass, one head per Parallel channel',
    texts: ['The movie was a delight from start to finish.', 'The service was slow and the food was cold.'],
  },
  {
    name: 'adapterdrop',
    title: 'AdapterDrop: the sst-2 adapter skipped in layers 0..4',
    texts: [SST2_SENTENCE],
  },
];

/** Label names in id order from the head config's label2id (LABEL_i where it names none). */
function labelNames(program: CheckedProgram, head: string, count: number): string[] {
  const label2id = program.heads.get(head)?.config.label2id ?? {};
  const names = Array.from({ length: count }, (_, i) => `LABEL_${i}`);
  for (const [label, id] of Object.entries(label2id)) if (id >= 0 && id < count) names[id] = label;
  return names;
}

/** Every file of the site: path relative to the site's root → content. */
export async function siteFiles(): Promise<Map<string, string | Uint8Array>> {
  if (!fs.existsSync(join(BUNDLED_ASSETS_DIR, 'bert-mini', 'config.json')))
    writeBundledAssets(BUNDLED_ASSETS_DIR);
  const files = new Map<string, string | Uint8Array>();
  const scenarios: SiteScenario[] = [];
  for (const { name, title, texts } of WEB_SCENARIOS) {
    const compiled = compileFile(join(EXAMPLES_DIR, `${name}.adapt`));
    const optimized = optimizeForGpu(compiled);
    const { manifest, weights } = serializeModel(optimized);
    files.set(`models/${name}/model.json`, `${JSON.stringify(manifest)}\n`);
    files.set(
      `models/${name}/weights.bin`,
      new Uint8Array(weights.buffer, weights.byteOffset, weights.byteLength),
    );
    const encoded = loadTokenizer(compiled.program.model).encode(texts);
    const heads: SiteHead[] = optimized.graph.outputs
      .filter((o) => o.name.startsWith('heads.'))
      .map((o) => {
        const head = o.name.slice('heads.'.length);
        const count = compiled.program.heads.get(head)?.config.num_labels ?? 0;
        return { output: o.name, name: head, labels: labelNames(compiled.program, head, count) };
      });
    scenarios.push({
      name,
      file: `examples/${name}.adapt`,
      title,
      setup: setupText(compiled.program),
      texts,
      inputs: encoded,
      heads,
    });
  }
  const site: SiteManifest = { format: 'adaptc-web/1', scenarios };
  files.set('scenarios.json', `${JSON.stringify(site)}\n`);
  files.set('app.js', await bundleForBrowser(join(WEB_DIR, 'main.ts')));
  files.set('index.html', fs.readFileSync(join(WEB_DIR, 'index.html'), 'utf8'));
  return files;
}

/** One ES module with every import inlined, for browsers (esbuild is loaded only when something is bundled). */
export async function bundleForBrowser(entry: string): Promise<string> {
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0].text;
}

/** Writes the site into `dir` (created if needed; files of an earlier build are overwritten). */
export async function buildSite(dir: string): Promise<{ dir: string; files: string[] }> {
  const root = resolve(dir);
  const files = await siteFiles();
  for (const [name, content] of files) {
    const path = join(root, name);
    fs.mkdirSync(join(path, '..'), { recursive: true });
    fs.writeFileSync(path, content);
  }
  return { dir: root, files: [...files.keys()] };
}
