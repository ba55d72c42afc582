// A subject as files: `.adapt` text that `adaptc check` accepts, and every module it loads saved in
// AdapterHub format (config JSON + weights) beside it. Used for counterexamples and for the
// save-and-reload law. The text names heads explicitly, so no head inference can change the setup.
import * as fs from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { selectModuleKeys, writeAdapterHubFolder } from '../checkpoint/adapterhub.ts';
import { serializeSafetensors } from '../checkpoint/safetensors.ts';
import {
  adapterConfigFileJson,
  adapterConfigToJson,
  fusionConfigFileJson,
  headConfigFileJson,
  type SavedConfigMeta,
} from '../config/index.ts';
import type { CheckedProgram, Composition, HeadSetup } from '../dsl/checked.ts';
import { lowerProgram } from '../lower/bert.ts';
import type { EncoderConfig } from '../lower/model-config.ts';
import type { Inputs } from '../runtime/reference/interpret.ts';
import type { Subject } from './law.ts';
import { leavesOf } from './program.ts';

/** A composition as .adapt text. Average weights are written as stored, so `normalize_weights: false`. */
export function compositionText(c: Composition): string {
  if (typeof c === 'string') return c;
  const children = c.children.map(compositionText);
  switch (c.type) {
    case 'Split':
      return `Split(${[...children, `splits: [${c.splits.join(', ')}]`].join(', ')})`;
    case 'BatchSplit':
      return `BatchSplit(${[...children, `batch_sizes: [${c.batch_sizes.join(', ')}]`].join(', ')})`;
    case 'Average':
      return `Average(${[...children, `weights: [${c.weights.join(', ')}]`, 'normalize_weights: false'].join(', ')})`;
    default:
      return `${c.type}(${children.join(', ')})`;
  }
}

/** Keys of the base model's parameters the program reads. */
function baseKeys(subject: Subject): string[] {
  const graph = lowerProgram(subject.program, subject.model);
  return graph.nodes.flatMap((n) => (n.op === 'param' && n.origin.kind === 'base' ? [n.key] : []));
}

/**
 * `c` with head `h` attached: a Stack gets it as its last child; anything else is wrapped in one.
 * `Stack(a)` nested in a block cannot carry its own head: `Stack(a, head h)` reads as `a`, which
 * differs from a nested `Stack(a)` (quirk 3), and a Stack may not hold a Stack.
 */
function withHeadText(c: Composition, head: string, nested: boolean): string {
  if (nested && typeof c !== 'string' && c.type === 'Stack' && c.children.length === 1)
    throw new Error(
      `${compositionText(c)} with head ${head} cannot be written in .adapt (it would read as ${compositionText(c.children[0])})`,
    );
  const children = typeof c !== 'string' && c.type === 'Stack' ? c.children : [c];
  return `Stack(${[...children.map(compositionText), `head ${head}`].join(', ')})`;
}

/** The setup expression with the head setup written into it. */
export function setupText(setup: Composition | null, heads: HeadSetup): string | null {
  if (setup === null) return heads?.kind === 'single' ? `head ${heads.head}` : null;
  if (heads === null) return compositionText(setup);
  if (heads.kind === 'single') return withHeadText(setup, heads.head, false);
  if (typeof setup === 'string') throw new Error('a per-channel head setup needs a Parallel or BatchSplit');
  if (setup.type === 'Parallel' || setup.type === 'BatchSplit') {
    const channels = setup.children.map((c, i) => withHeadText(c, heads.heads[i], true));
    const sizes = setup.type === 'BatchSplit' ? [`batch_sizes: [${setup.batch_sizes.join(', ')}]`] : [];
    return `${setup.type}(${[...channels, ...sizes].join(', ')})`;
  }
  const last = setupText(setup.children[setup.children.length - 1], heads);
  return `${setup.type}(${[...setup.children.slice(0, -1).map(compositionText), last].join(', ')})`;
}

/** A subject in a few lines: the model's sizes, adapter configs, setup, heads, drop set; no weights. */
export function describeSubject(subject: Subject): string {
  const { model, program } = subject;
  const configs = [...new Set(leavesOf(program.setup))].map(
    (a) => `adapter ${a} = ${JSON.stringify(adapterConfigToJson(program.adapters.get(a)!.config))}`,
  );
  const size = `${model.numLayers} layers, hidden ${model.hiddenSize}, ${model.numHeads} heads, intermediate ${model.intermediateSize}`;
  return [
    `model: ${size}`,
    ...configs,
    `setup ${program.setup === null ? '(none)' : compositionText(program.setup)}`,
    `heads ${headsUsed(program.headSetup).join(', ') || '(none)'}`,
    ...(program.skipLayers.length > 0 ? [`drop ${program.skipLayers.join(', ')}`] : []),
    ...((program.merged ?? []).length > 0 ? [`merge ${program.merged!.join(', ')}`] : []),
  ].join('\n');
}

/** Heads the head setup uses. */
export const headsUsed = (heads: HeadSetup): readonly string[] =>
  heads === null ? [] : heads.kind === 'single' ? [heads.head] : heads.heads;

/** Fusions the setup uses (a Fuse block's adapters joined by ','). */
function fusionsUsed(c: Composition | null): string[] {
  if (c === null || typeof c === 'string') return [];
  return [...(c.type === 'Fuse' ? [leavesOf(c).join(',')] : []), ...c.children.flatMap(fusionsUsed)];
}

/** config.json for a model folder, the keys `encoderConfigFromJson` reads. */
export function modelConfigJson(model: EncoderConfig): Record<string, unknown> {
  return {
    model_type: model.modelType,
    vocab_size: model.vocabSize,
    hidden_size: model.hiddenSize,
    num_hidden_layers: model.numLayers,
    num_attention_heads: model.numHeads,
    intermediate_size: model.intermediateSize,
    hidden_act: model.hiddenAct,
    layer_norm_eps: model.layerNormEps,
    max_position_embeddings: model.maxPositions,
    type_vocab_size: model.typeVocabSize,
    pad_token_id: model.padTokenId,
  };
}

const isModelFolder = (path: string): boolean => isAbsolute(path) && fs.existsSync(join(path, 'config.json'));

/** Where one written subject's files go: `<dir>/<stem>.adapt` and modules under `<dir>/<stem>.modules/`. */
export interface SubjectFiles {
  readonly adapt: string;
  readonly modules: string;
}

export function subjectFiles(dir: string, stem: string): SubjectFiles {
  return { adapt: join(dir, `${stem}.adapt`), modules: join(dir, `${stem}.modules`) };
}

/**
 * Writes the subject: the model folder when the model exists only in memory (otherwise the text names
 * the user's folder), each adapter, fusion and head the setup uses as an AdapterHub folder, and the
 * .adapt text. Returns the text.
 */
export function writeSubject(subject: Subject, files: SubjectFiles): string {
  const { program, model, weights } = subject;
  fs.rmSync(files.modules, { recursive: true, force: true });
  fs.mkdirSync(files.modules, { recursive: true });
  const at = (path: string) => `./${relative(join(files.adapt, '..'), path).split('\\').join('/')}`;
  const meta = (name: string): SavedConfigMeta => ({
    name,
    hiddenSize: model.hiddenSize,
    modelType: model.modelType,
    modelName: 'adaptc-laws',
  });
  let modelPath = program.model;
  if (!isModelFolder(program.model)) {
    const dir = join(files.modules, 'model');
    fs.mkdirSync(dir);
    fs.writeFileSync(join(dir, 'config.json'), `${JSON.stringify(modelConfigJson(model), null, 2)}\n`);
    const base = new Map(baseKeys(subject).map((key) => [key, weights.get(key)!]));
    fs.writeFileSync(join(dir, 'model.safetensors'), serializeSafetensors(base, { format: 'pt' }));
    modelPath = at(dir);
  }
  const lines = [`model ${JSON.stringify(modelPath)}`];
  for (const kind of ['adapters', 'fusions', 'heads']) fs.mkdirSync(join(files.modules, kind));
  for (const name of new Set(leavesOf(program.setup))) {
    const dir = join(files.modules, 'adapters', name);
    const config = program.adapters.get(name)!.config;
    writeAdapterHubFolder(dir, 'adapter', {
      json: adapterConfigFileJson(config, meta(name)),
      weights: selectModuleKeys('adapter', weights, name),
    });
    lines.push(`adapter ${name} = load ${JSON.stringify(at(dir))} without head`);
  }
  fusionsUsed(program.setup).forEach((name, i) => {
    const fusion = program.fusions.get(name)!;
    const dir = join(files.modules, 'fusions', String(i));
    writeAdapterHubFolder(dir, 'fusion', {
      json: fusionConfigFileJson(fusion.config, fusion.adapters, meta(name)),
      weights: selectModuleKeys('fusion', weights, name),
    });
    lines.push(`fusion Fuse(${fusion.adapters.join(', ')}) = load ${JSON.stringify(at(dir))}`);
  });
  for (const name of new Set(headsUsed(program.headSetup))) {
    const dir = join(files.modules, 'heads', name);
    writeAdapterHubFolder(dir, 'head', {
      json: headConfigFileJson(program.heads.get(name)!.config, meta(name)),
      weights: selectModuleKeys('head', weights, name),
    });
    lines.push(`head ${name} = load ${JSON.stringify(at(dir))}`);
  }
  lines.push(...programTail(program));
  const text = `${lines.join('\n')}\n`;
  fs.writeFileSync(files.adapt, text);
  return text;
}

/** The `setup … drop …` and `merge …` statements. */
function programTail(program: CheckedProgram): string[] {
  const setup = setupText(program.setup, program.headSetup);
  const drop = program.skipLayers.length > 0 ? ` drop ${program.skipLayers.join(', ')}` : '';
  return [
    ...(setup === null ? [] : [`setup ${setup}${drop}`]),
    ...((program.merged ?? []).length > 0 ? [`merge ${program.merged!.join(', ')}`] : []),
  ];
}

/** inputs.json as `adaptc run --input` reads it. */
export function inputsJson(inputs: Inputs): Record<string, number[][]> {
  const matrix = (name: keyof Inputs) => {
    const t = inputs[name]!;
    const [rows, cols] = t.shape;
    return Array.from({ length: rows }, (_, r) => Array.from(t.data.slice(r * cols, (r + 1) * cols)));
  };
  return {
    input_ids: matrix('input_ids'),
    attention_mask: matrix('attention_mask'),
    token_type_ids: matrix('token_type_ids'),
  };
}
