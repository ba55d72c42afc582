// The page of examples/web/ (bundled by src/web/build.ts into app.js): reads scenarios.json, loads each compiled
// model from models/<name>/, runs it on navigator.gpu and renders every head's probabilities, the shapes and the
// timings. Publishes `window.adaptcResults` and sets `document.body.dataset.state` to 'done' or 'error'.
import { acquireDevice, loadModel, type ModelTensor } from '../../src/runtime/webgpu/browser.ts';
import type {
  PageResults,
  PageScenarioResult,
  PageTensor,
  SiteManifest,
  SiteScenario,
} from '../../src/web/site.ts';

declare global {
  interface Window {
    adaptcResults?: PageResults;
    adaptcError?: string;
  }
}

const matrix = (rows: readonly (readonly number[])[]): ModelTensor => ({
  shape: [rows.length, rows[0].length],
  data: Int32Array.from(rows.flat()),
});

function softmax(logits: readonly number[]): number[] {
  const max = Math.max(...logits);
  const exps = logits.map((l) => Math.exp(l - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  content: string | readonly Node[] = '',
  className?: string,
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (typeof content === 'string') e.textContent = content;
  else e.append(...content);
  if (className !== undefined) e.className = className;
  return e;
}

const ms = (value: number): string => `${value.toFixed(1)} ms`;

async function fetchJson<T>(url: string): Promise<T> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return (await response.json()) as T;
}

/** Every finite number or an error: a NaN or an infinity in an output is reported, never shown as a number. */
function checkedTensor(scenario: string, name: string, t: ModelTensor): PageTensor {
  const data = Array.from(t.data);
  const bad = data.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new Error(`${scenario}: ${name}[${bad}] is ${data[bad]}`);
  if (data.length === 0) throw new Error(`${scenario}: ${name} is empty`);
  return { shape: [...t.shape], data };
}

async function runScenario(
  scenario: SiteScenario,
  device: Awaited<ReturnType<typeof acquireDevice>>,
): Promise<PageScenarioResult> {
  const base = `models/${encodeURIComponent(scenario.name)}`;
  const loadStart = performance.now();
  const model = await loadModel(`${base}/model.json`, `${base}/weights.bin`, { device });
  const loadMs = performance.now() - loadStart;
  try {
    const inputs = {
      input_ids: matrix(scenario.inputs.input_ids),
      attention_mask: matrix(scenario.inputs.attention_mask),
      token_type_ids: matrix(scenario.inputs.token_type_ids),
    };
    const firstStart = performance.now();
    const run = await model.run(inputs);
    const firstRunMs = performance.now() - firstStart;
    const warmStart = performance.now();
    await model.run(inputs);
    const warmRunMs = performance.now() - warmStart;
    const outputs: Record<string, PageTensor> = {};
    for (const [name, t] of run.outputs) outputs[name] = checkedTensor(scenario.name, name, t);
    for (const head of scenario.heads) {
      if (!(head.output in outputs))
        throw new Error(`${scenario.name}: the model has no output ${head.output}`);
    }
    return { name: scenario.name, loadMs, firstRunMs, warmRunMs, outputs };
  } finally {
    model.release();
  }
}

/** One cell per batch row and head: every label's probability, the most likely in bold. */
function headCell(scenario: SiteScenario, result: PageScenarioResult): HTMLElement {
  const cell = element('td');
  for (const head of scenario.heads) {
    const { shape, data } = result.outputs[head.output];
    const [rows, count] = shape;
    const labels =
      head.labels.length === count ? head.labels : data.slice(0, count).map((_, i) => `LABEL_${i}`);
    cell.append(element('div', `head ${head.name} [${shape.join(', ')}] logits → softmax`, 'muted'));
    for (let r = 0; r < rows; r++) {
      const probs = softmax(data.slice(r * count, (r + 1) * count));
      const best = probs.indexOf(Math.max(...probs));
      const line = element('div', [], 'mono');
      line.append(`${JSON.stringify(scenario.texts[r] ?? `row ${r}`)}  `);
      probs.forEach((p, i) => {
        line.append(element('span', `${labels[i]} ${p.toFixed(3)}  `, i === best ? 'best' : undefined));
      });
      cell.append(line);
    }
  }
  return cell;
}

function renderTable(site: SiteManifest, results: PageResults): HTMLTableElement {
  const table = element('table');
  const header = element('tr');
  for (const title of [
    'scenario',
    'adapter',
    'heads (probabilities)',
    'shapes',
    'load',
    'first run',
    'warm run',
  ]) {
    header.append(element('th', title));
  }
  table.append(header);
  site.scenarios.forEach((scenario, i) => {
    const result = results.scenarios[i];
    const row = element('tr');
    row.dataset.scenario = scenario.name;
    row.append(
      element('td', [
        element('div', scenario.file, 'mono'),
        element('div', scenario.title),
        element('div', scenario.setup, 'muted mono'),
      ]),
      element('td', results.adapter.description),
      headCell(scenario, result),
      element(
        'td',
        Object.entries(result.outputs).map(([name, t]) =>
          element('div', `${name} [${t.shape.join(', ')}]`, 'mono'),
        ),
      ),
      element('td', ms(result.loadMs), 'num'),
      element('td', ms(result.firstRunMs), 'num'),
      element('td', ms(result.warmRunMs), 'num'),
    );
    table.append(row);
  });
  return table;
}

async function main(): Promise<void> {
  const status = document.getElementById('status')!;
  const container = document.getElementById('results')!;
  try {
    if (!('gpu' in navigator)) throw new Error('this browser has no WebGPU (navigator.gpu is missing)');
    const site = await fetchJson<SiteManifest>('scenarios.json');
    if (site.format !== 'adaptc-web/1') throw new Error(`scenarios.json: unknown format '${site.format}'`);
    const device = await acquireDevice();
    try {
      const adapter = { description: device.adapterInfo.description, backend: device.adapterInfo.backend };
      status.textContent = `Running ${site.scenarios.length} compositions on ${adapter.description}…`;
      const scenarios: PageScenarioResult[] = [];
      for (const scenario of site.scenarios) {
        status.textContent = `Running ${scenario.file} on ${adapter.description}…`;
        scenarios.push(await runScenario(scenario, device));
      }
      const results: PageResults = { adapter, scenarios };
      container.replaceChildren(renderTable(site, results));
      status.textContent = `${scenarios.length} compositions ran on ${adapter.description} (${adapter.backend}).`;
      window.adaptcResults = results;
      document.body.dataset.state = 'done';
    } finally {
      device.release();
    }
  } catch (error) {
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    status.replaceChildren(element('div', `Failed: ${message}`, 'error'));
    window.adaptcError = message;
    document.body.dataset.state = 'error';
  }
}

void main();
