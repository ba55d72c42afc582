// `adaptc demo` (what `npm start` runs): the bundled compositions on sentences, end to end — tokenizer,
// checker, lowering, weights, a backend — printing each head's probabilities, the backend and the time.
import * as fs from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BUNDLED_ASSETS_DIR, EXAMPLES_DIR } from '../../bundled/paths.ts';
import { writeBundledAssets } from '../../bundled/write.ts';
import { type Compiled, compileFile } from '../../compiler.ts';
import type { CheckedProgram } from '../../dsl/checked.ts';
import { inputsFromJson } from '../../runtime/io.ts';
import { type Inputs, interpret, type Tensor } from '../../runtime/reference/interpret.ts';
import type { AcquiredDevice } from '../../runtime/webgpu/device.ts';
import { acquireNodeDevice } from '../../runtime/webgpu/device-node.ts';
import { loadModel, optimizeForGpu } from '../../runtime/webgpu/load-node.ts';
import { loadTokenizer } from '../../tokenizer/index.ts';
import { setupText } from '../../viz/plan.ts';
import { type Command, EXIT_OK, EXIT_USER_ERROR } from '../command.ts';
import { displayPath } from '../display.ts';
import { reportUserError } from '../errors.ts';

const SST2_SENTENCE = 'AdapterHub is awesome!';

interface Scenario {
  readonly file: string;
  /** How the file is named in the output. */
  readonly shown: string;
  readonly title: string;
  /** One text per batch row. */
  readonly texts: readonly string[];
}

const bundled = (name: string, title: string, texts: readonly string[]): Scenario => ({
  file: join(EXAMPLES_DIR, name),
  shown: `examples/${name}`,
  title,
  texts,
});

/** The product's four scenarios over examples/*.adapt. */
const BUNDLED_SCENARIOS: readonly Scenario[] = [
  bundled('sst2.adapt', 'an sst-2 task adapter with its head', [SST2_SENTENCE]),
  bundled(
    'seed-fusion.adapt',
    'AdapterFusion of three adapters under a trained cb head, no adapters in layers 0..10',
    // The tokenizer encodes single sequences, so the premise/hypothesis pair is joined by [SEP].
    ['A soccer game with multiple males playing. [SEP] Some men are playing a sport.'],
  ),
  bundled('parallel.adapt', 'two tasks in one forward pass, one head per Parallel channel', [
    'The movie was a delight from start to finish.',
    'The service was slow and the food was cold.',
  ]),
  bundled('adapterdrop.adapt', 'AdapterDrop: the sst-2 adapter skipped in layers 0..4', [SST2_SENTENCE]),
];

/** Where a compiled model runs. */
interface Backend {
  /** What ran it, as the demo prints it: a GPU's name, llvmpipe, or the reference interpreter. */
  readonly name: string;
  run(compiled: Compiled, inputs: Inputs): Promise<ReadonlyMap<string, Tensor>>;
}

const REFERENCE_BACKEND: Backend = {
  name: 'reference interpreter (CPU)',
  run: async (compiled, inputs) => interpret(compiled.graph, (key) => compiled.weights.get(key), inputs),
};

interface PickedBackend {
  readonly backend: Backend;
  /** One line for the user when the demo fell back to the CPU. */
  readonly notice: string | null;
  release(): void;
}

/**
 * The one place the demo picks its backend: WebGPU on the first adapter found (a GPU, else Mesa's
 * llvmpipe), otherwise the reference interpreter, said on one line.
 */
async function pickBackend(): Promise<PickedBackend> {
  let device: AcquiredDevice;
  try {
    device = await acquireNodeDevice();
  } catch {
    return {
      backend: REFERENCE_BACKEND,
      notice: 'no WebGPU adapter found: running on the reference interpreter (CPU)',
      release: () => undefined,
    };
  }
  const run = async (compiled: Compiled, inputs: Inputs) => {
    const model = await loadModel(optimizeForGpu(compiled), { device });
    try {
      return (await model.run(inputs)).outputs as ReadonlyMap<string, Tensor>;
    } finally {
      model.release();
    }
  };
  return {
    backend: { name: `WebGPU (${device.adapterInfo.description})`, run },
    notice: null,
    release: () => device.release(),
  };
}

const USAGE = `usage: adaptc demo [FILE.adapt …] [--text TEXT …]

Without files: runs the bundled examples (examples/*.adapt on the bundled bert-mini and adapter store):
a task adapter with its head, Stack(Fuse(…), head) with AdapterDrop, Parallel with two heads, AdapterDrop.
With files: runs each on the --text sentences (default "${SST2_SENTENCE}"), one batch row per --text.
Prints each head's probabilities by label, the backend that ran it and the time.`;

function softmax(logits: readonly number[]): number[] {
  const max = Math.max(...logits);
  const exps = logits.map((l) => Math.exp(l - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

/** Label names in id order from the head config's label2id (LABEL_i where it names none). */
function labelNames(program: CheckedProgram, head: string, count: number): string[] {
  const label2id = program.heads.get(head)?.config.label2id ?? {};
  const names = Array.from({ length: count }, (_, i) => `LABEL_${i}`);
  for (const [label, id] of Object.entries(label2id)) if (id >= 0 && id < count) names[id] = label;
  return names;
}

const quoted = (text: string, width: number): string =>
  JSON.stringify(text.length > width ? `${text.slice(0, width - 1)}…` : text);

/** One line per batch row: every label's probability, the most likely one last. */
function headLines(
  program: CheckedProgram,
  head: string,
  logits: Tensor,
  texts: readonly string[],
): string[] {
  const [rows, count] = logits.shape;
  const labels = labelNames(program, head, count);
  const lines = [`  head ${head} ${JSON.stringify(logits.shape)} logits → softmax`];
  for (let r = 0; r < rows; r++) {
    const probs = softmax(Array.from(logits.data.subarray(r * count, (r + 1) * count)));
    const best = probs.indexOf(Math.max(...probs));
    const cells = probs.map((p, i) => `${labels[i]} ${p.toFixed(3)}`).join('  ');
    lines.push(`    ${quoted(texts[r] ?? '', 80)}  ${cells}  → ${labels[best]}`);
  }
  return lines;
}

const milliseconds = (start: bigint): string =>
  `${(Number(process.hrtime.bigint() - start) / 1e6).toFixed(0)} ms`;

async function runScenario({ file, shown, title, texts }: Scenario, backend: Backend): Promise<string[]> {
  const compileStart = process.hrtime.bigint();
  const compiled = compileFile(file);
  const compileTime = milliseconds(compileStart);
  const inputs = inputsFromJson(loadTokenizer(compiled.program.model).encode(texts));
  const runStart = process.hrtime.bigint();
  const outputs = await backend.run(compiled, inputs);
  const runTime = milliseconds(runStart);
  const heads = compiled.graph.outputs.filter((o) => o.name.startsWith('heads.'));
  return [
    `${shown}${title === '' ? '' : ` — ${title}`}`,
    `  ${setupText(compiled.program)}`,
    `  input ${JSON.stringify(inputs.input_ids!.shape)} token ids, ${texts.length} ${texts.length === 1 ? 'sentence' : 'sentences'}`,
    ...heads.flatMap((o) =>
      headLines(compiled.program, o.name.slice('heads.'.length), outputs.get(o.name)!, texts),
    ),
    `  last_hidden_state ${JSON.stringify(outputs.get('last_hidden_state')!.shape)}`,
    `  ran on ${backend.name} in ${runTime} (compiled and loaded in ${compileTime})`,
    '',
  ];
}

/** The committed assets, or regenerated (and trained, on the CPU: minutes) when a checkout lacks them. */
async function ensureBundledAssets(): Promise<void> {
  if (fs.existsSync(join(BUNDLED_ASSETS_DIR, 'bert-mini', 'config.json'))) return;
  await writeBundledAssets(BUNDLED_ASSETS_DIR);
  process.stdout.write(`wrote the bundled model and adapters to ${displayPath(BUNDLED_ASSETS_DIR)}\n`);
}

export const demoCommand: Command = {
  name: 'demo',
  summary: 'run the bundled examples (or given files) on sentences, with backend and time',
  usage: USAGE,
  async run(args) {
    let parsed: ReturnType<typeof parseDemoArgs>;
    try {
      parsed = parseDemoArgs(args);
    } catch (e) {
      process.stderr.write(`adaptc demo: ${(e as Error).message}\n${USAGE}\n`);
      return EXIT_USER_ERROR;
    }
    const scenarios: readonly Scenario[] =
      parsed.files.length === 0
        ? BUNDLED_SCENARIOS
        : parsed.files.map((file) => ({
            file,
            shown: displayPath(file),
            title: '',
            texts: parsed.texts ?? [SST2_SENTENCE],
          }));
    try {
      if (parsed.files.length === 0) {
        await ensureBundledAssets();
        process.stdout.write(
          'The bundled bert-mini is random and frozen; its adapters, heads and the fusion were trained by adaptc on small generated tasks.\n',
        );
      }
      const { backend, notice, release } = await pickBackend();
      try {
        process.stdout.write(notice === null ? '\n' : `${notice}\n\n`);
        for (const s of scenarios) {
          const lines = await runScenario(s, backend);
          process.stdout.write(`${lines.join('\n')}\n`);
        }
      } finally {
        release();
      }
      return EXIT_OK;
    } catch (e) {
      return reportUserError('demo', e);
    }
  },
};

function parseDemoArgs(args: readonly string[]): { files: string[]; texts: string[] | undefined } {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: { text: { type: 'string', multiple: true } },
  });
  if (values.text !== undefined && positionals.length === 0)
    throw new Error('--text needs FILE.adapt (the bundled examples bring their own sentences)');
  return { files: positionals, texts: values.text };
}
