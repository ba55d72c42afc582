// fast-check arbitraries for composition semantics: tiny models, adapters of every supported method,
// valid compositions over them (the library's nesting table, depth rule and per-method support),
// AdapterDrop sets, padded inputs and law subjects (model + program + weights). They shrink toward small models and flat compositions.
import fc from 'fast-check';
import { ADAPTER_PRESETS, FUSION_PRESETS, resolveHeadConfig, singleConfigs } from '../config/index.ts';
import type { AdapterConfig, FusionConfig, SingleAdapterConfig } from '../config/types.ts';
import type { BlockType } from '../dsl/ast.ts';
import type { CheckedProgram, Composition, HeadSetup } from '../dsl/checked.ts';
import { ALLOWED_NESTINGS } from '../dsl/composition.ts';
import type { Subject } from '../laws/law.ts';
import { describeSubject, inputsJson } from '../laws/source.ts';
import { lowerProgram } from '../lower/bert.ts';
import type { EncoderConfig } from '../lower/model-config.ts';
import type { Inputs } from '../runtime/reference/interpret.ts';
import { programOf, randomWeights, tinyEncoderConfig } from './model.ts';

export type Family = 'bottleneck' | 'lora' | 'ia3' | 'prefix';

/** Blocks each method family supports (semantics §1.2); Split and Fuse are bottleneck-only. */
export const FAMILY_BLOCKS: Readonly<Record<Family, readonly BlockType[]>> = {
  bottleneck: ['Stack', 'Fuse', 'Split', 'Parallel', 'BatchSplit', 'Average'],
  lora: ['Stack', 'BatchSplit', 'Average', 'Parallel'],
  ia3: ['Stack', 'BatchSplit', 'Average', 'Parallel'],
  prefix: ['Stack', 'Parallel', 'BatchSplit'],
};

export const tinyModelArb: fc.Arbitrary<EncoderConfig> = fc
  .record({
    heads: fc.constantFrom(1, 2),
    headWidth: fc.constantFrom(4, 8),
    layers: fc.integer({ min: 1, max: 3 }),
    intermediate: fc.constantFrom(8, 16),
  })
  .map(({ heads, headWidth, layers, intermediate }) =>
    tinyEncoderConfig({
      hidden: heads * headWidth,
      heads,
      layers,
      intermediate,
      vocab: 24,
      maxPositions: 16,
    }),
  );

function single(preset: string, overrides: Record<string, unknown>): SingleAdapterConfig {
  const base = ADAPTER_PRESETS[preset]();
  if (base.architecture === 'union') throw new Error(`${preset} is a union`);
  return { ...base, ...overrides } as SingleAdapterConfig;
}

/** Layers an adapter leaves out (`leave_out`), when asked for: usually none, sometimes some of the first three. */
const leaveOutArb: fc.Arbitrary<number[]> = fc.oneof(
  { weight: 3, arbitrary: fc.constant<number[]>([]) },
  { weight: 1, arbitrary: fc.subarray([0, 1, 2], { minLength: 1 }) },
);

/**
 * One adapter config of the family; every adapter of a scenario shares it (mixed methods are rejected).
 * LoRA stays on q/k/v: a Stack of LoRAs feeds one's delta into the next, which needs a square layer.
 */
export function adapterConfigArb(family: Family, leaveOut = false): fc.Arbitrary<AdapterConfig> {
  if (!leaveOut) return methodConfigArb(family);
  return fc
    .tuple(methodConfigArb(family), leaveOutArb)
    .map(([config, leave_out]) => ({ ...config, leave_out }) as SingleAdapterConfig);
}

function methodConfigArb(family: Family): fc.Arbitrary<SingleAdapterConfig> {
  switch (family) {
    case 'bottleneck':
      return fc
        .record({
          preset: fc.constantFrom('seq_bn', 'double_seq_bn', 'par_bn'),
          reduction_factor: fc.constantFrom(2, 4),
          non_linearity: fc.constantFrom('relu', 'gelu', 'swish', 'tanh'),
          use_gating: fc.boolean(),
          ln_after: fc.boolean(),
        })
        .map(({ preset, ...keys }) => single(preset, keys));
    case 'lora':
      return fc
        .record({
          r: fc.constantFrom(1, 2),
          alpha: fc.constantFrom(1, 2, 4),
          attn_matrices: fc.subarray(['q', 'k', 'v'] as const, { minLength: 1 }),
        })
        .map((keys) => single('lora', keys));
    case 'ia3':
      return fc.constant(single('ia3', {}));
    case 'prefix':
      return fc
        .record({
          prefix_length: fc.integer({ min: 1, max: 3 }),
          bottleneck_size: fc.constantFrom(4, 8),
          flat: fc.boolean(),
        })
        .map((keys) => single('prefix_tuning', keys));
  }
}

/** Sizes of `parts` consecutive pieces of `total` (all positive when parts ≤ total). */
function evenParts(total: number, parts: number): number[] {
  const each = Math.floor(total / parts);
  return Array.from({ length: parts }, (_, i) => (i === parts - 1 ? total - each * (parts - 1) : each));
}

interface Room {
  readonly rows: number;
  readonly seq: number;
}

/**
 * A composition block of `type` at `level`, its children drawn from the nesting table. `rows` and
 * `seq` are what the block sees, so BatchSplit and Split sizes always add up.
 */
function blockArb(
  type: BlockType,
  level: number,
  family: Family,
  names: readonly string[],
  room: Room,
): fc.Arbitrary<Composition> {
  const allowedBlocks = ALLOWED_NESTINGS[type].filter(
    (t) => FAMILY_BLOCKS[family].includes(t) && t !== 'Parallel',
  );
  const minChildren = type === 'Stack' ? 1 : 2;
  const maxChildren = Math.min(3, type === 'BatchSplit' ? room.rows : type === 'Split' ? room.seq : 3);
  if (maxChildren < minChildren) return fc.constantFrom(...names);
  return fc.integer({ min: minChildren, max: maxChildren }).chain((count) => {
    const sizes =
      type === 'BatchSplit'
        ? evenParts(room.rows, count)
        : type === 'Split'
          ? evenParts(room.seq, count)
          : null;
    const childRoom = (i: number): Room =>
      type === 'BatchSplit'
        ? { ...room, rows: sizes![i] }
        : type === 'Split'
          ? { ...room, seq: sizes![i] }
          : room;
    // The depth rule: below level 1 only Stacks of names; a Stack below the top holds only names.
    const nestedTypes =
      type === 'Stack' && level >= 1
        ? []
        : level >= 1
          ? allowedBlocks.filter((t) => t === 'Stack')
          : allowedBlocks;
    const child = (i: number): fc.Arbitrary<Composition> =>
      nestedTypes.length === 0
        ? fc.constantFrom(...names)
        : fc.oneof(
            { weight: 3, arbitrary: fc.constantFrom(...names) },
            {
              weight: 1,
              arbitrary: fc
                .constantFrom(...nestedTypes)
                .chain((t) => blockArb(t, level + 1, family, names, childRoom(i))),
            },
          );
    return fc.tuple(...Array.from({ length: count }, (_, i) => child(i))).map((children): Composition => {
      switch (type) {
        case 'BatchSplit':
          return { type, children, batch_sizes: sizes! };
        case 'Split':
          return { type, children, splits: sizes! };
        case 'Average':
          return { type, children, weights: children.map(() => 1 / children.length) };
        default:
          return { type: type as 'Stack', children };
      }
    });
  });
}

/** A top-level setup: any supported block, or a Parallel (at the top or directly inside the top Stack). */
export function compositionArb(
  family: Family,
  names: readonly string[],
  room: Room,
): fc.Arbitrary<Composition> {
  const tops = FAMILY_BLOCKS[family].filter((t) => t !== 'Parallel');
  const plain = fc.constantFrom(...tops).chain((t) => blockArb(t, 0, family, names, room));
  if (!FAMILY_BLOCKS[family].includes('Parallel')) return plain;
  // A Parallel at `level`: its block children sit one level lower, where below level 1 only Stacks go.
  const parallelAt = (level: number) => {
    const channelBlocks: BlockType[] = level === 0 ? ['Stack', 'Average', 'BatchSplit'] : ['Stack'];
    return fc
      .integer({ min: 2, max: 3 })
      .chain((n) =>
        fc.tuple(
          ...Array.from({ length: n }, () =>
            fc.oneof(
              fc.constantFrom(...names),
              fc
                .constantFrom(...channelBlocks)
                .filter((t) => FAMILY_BLOCKS[family].includes(t))
                .chain((t) => blockArb(t, level + 1, family, names, room)),
            ),
          ),
        ),
      )
      .map((children): Composition => ({ type: 'Parallel', children }));
  };
  return fc.oneof(
    { weight: 3, arbitrary: plain },
    { weight: 1, arbitrary: parallelAt(0) },
    { weight: 1, arbitrary: parallelAt(1).map((p): Composition => ({ type: 'Stack', children: [p] })) },
  );
}

function fuseBlocks(c: Composition): string[][] {
  if (typeof c === 'string') return [];
  const flat = (x: Composition): string[] => (typeof x === 'string' ? [x] : x.children.flatMap(flat));
  return [...(c.type === 'Fuse' ? [flat(c)] : []), ...c.children.flatMap(fuseBlocks)];
}

const fusionConfigArb: fc.Arbitrary<FusionConfig> = fc
  .record({
    preset: fc.constantFrom('dynamic', 'static' as const),
    residual_before: fc.boolean(),
    query_before_ln: fc.boolean(),
    temperature: fc.boolean(),
    value_before_softmax: fc.boolean(),
  })
  .map(({ preset, ...keys }) => ({ ...FUSION_PRESETS[preset], ...keys }));

export interface Scenario {
  readonly model: EncoderConfig;
  readonly program: CheckedProgram;
  readonly batch: number;
  readonly seq: number;
  readonly seed: number;
}

function headsFor(setup: Composition): HeadSetup {
  const parallel =
    typeof setup !== 'string' &&
    (setup.type === 'Parallel'
      ? setup
      : setup.children.find((c) => typeof c !== 'string' && c.type === 'Parallel'));
  if (parallel && typeof parallel !== 'string')
    return { kind: 'parallel', heads: parallel.children.map((_, i) => `head${i}`) };
  return { kind: 'single', head: 'head0' };
}

/**
 * Whole scenarios: a tiny model, homogeneous adapters (with `leave_out` layers if asked), a valid setup,
 * a drop set and input sizes.
 */
export const scenariosOf = (options: { readonly leaveOut: boolean }): fc.Arbitrary<Scenario> =>
  fc
    .record({
      model: tinyModelArb,
      family: fc.constantFrom<Family>('bottleneck', 'lora', 'ia3', 'prefix'),
      adapterCount: fc.integer({ min: 1, max: 3 }),
      batch: fc.integer({ min: 1, max: 3 }),
      seq: fc.integer({ min: 2, max: 5 }),
      seed: fc.integer({ min: 0, max: 1_000_000 }),
    })
    .chain(({ model, family, adapterCount, batch, seq, seed }) => {
      const names = Array.from({ length: adapterCount }, (_, i) => `a${i}`);
      return (
        fc
          .record({
            config: adapterConfigArb(family, options.leaveOut),
            setup: compositionArb(family, names, { rows: batch, seq }),
            fusion: fusionConfigArb,
            skip: fc.subarray(Array.from({ length: model.numLayers }, (_, i) => i)),
          })
          // A Parallel block needs one layer with adapters to replicate the batch in.
          .filter(
            ({ config, setup, skip }) =>
              headsFor(setup)?.kind !== 'parallel' ||
              Array.from({ length: model.numLayers }, (_, l) => l).some(
                (l) => !skip.includes(l) && !singleConfigs(config).every((c) => c.leave_out.includes(l)),
              ),
          )
          .map(({ config, setup, fusion, skip }): Scenario => {
            const headSetup = headsFor(setup);
            const headNames = headSetup?.kind === 'parallel' ? headSetup.heads : ['head0'];
            const head = resolveHeadConfig('classification', { num_labels: 2 });
            if (!head.ok) throw new Error('classification head preset');
            const fusions = [...new Map(fuseBlocks(setup).map((f) => [f.join(','), f])).values()];
            return {
              model,
              batch,
              seq,
              seed,
              program: programOf({
                adapters: Object.fromEntries(names.map((n) => [n, config])),
                fusions: fusions.map((adapters) => ({ adapters, config: fusion })),
                heads: Object.fromEntries(headNames.map((h) => [h, head.value])),
                setup,
                headSetup,
                skipLayers: skip,
              }),
            };
          })
      );
    });

/** A law's subject from a scenario: its model, program and seeded random weights for every parameter. */
export function subjectOf(scenario: Scenario): Subject {
  const weights = randomWeights(lowerProgram(scenario.program, scenario.model), scenario.seed);
  return { model: scenario.model, program: scenario.program, weights };
}

export const scenarioArb: fc.Arbitrary<Scenario> = scenariosOf({ leaveOut: false });

/** Law subjects over scenarios whose adapters may leave layers out (so drop-unused-layers applies). */
export const subjectArb: fc.Arbitrary<Subject> = scenariosOf({ leaveOut: true }).map(subjectOf);

/** The batch a setup needs: the sizes of its first BatchSplit (in pre-order) add up to it. */
function requiredRows(c: Composition | null, heads: HeadSetup): number | null {
  if (heads?.kind === 'batch-split') return heads.batch_sizes.reduce((a, b) => a + b, 0);
  if (c === null || typeof c === 'string') return null;
  if (c.type === 'BatchSplit') return c.batch_sizes.reduce((a, b) => a + b, 0);
  return c.children.reduce<number | null>((found, x) => found ?? requiredRows(x, null), null);
}

/** The sequence length a setup needs: every Split's sizes add up to it. */
function requiredSeq(c: Composition | null): number | null {
  if (c === null || typeof c === 'string') return null;
  if (c.type === 'Split') return c.splits.reduce((a, b) => a + b, 0);
  return c.children.reduce<number | null>((found, x) => found ?? requiredSeq(x), null);
}

/**
 * Inputs the program can run on: the batch its BatchSplit needs (else 1–3 rows), the length its Split
 * needs (else 2–`maxSeq`), random right padding (every row keeps its first token), random ids.
 */
export function inputsArb(model: EncoderConfig, program: CheckedProgram, maxSeq = 6): fc.Arbitrary<Inputs> {
  const rows = requiredRows(program.setup, program.headSetup);
  const seq = requiredSeq(program.setup);
  const longest = Math.min(maxSeq, model.maxPositions);
  return fc
    .record({
      batch: rows === null ? fc.integer({ min: 1, max: 3 }) : fc.constant(rows),
      seq: seq === null ? fc.integer({ min: 2, max: longest }) : fc.constant(seq),
    })
    .chain(({ batch, seq }) =>
      fc.array(
        fc.record({
          length: fc.integer({ min: 1, max: seq }),
          ids: fc.array(fc.integer({ min: 1, max: model.vocabSize - 1 }), { minLength: seq, maxLength: seq }),
        }),
        { minLength: batch, maxLength: batch },
      ),
    )
    .map((rowsDrawn) => paddedInputs(rowsDrawn));
}

function paddedInputs(rows: readonly { length: number; ids: readonly number[] }[]): Inputs {
  const seq = rows[0].ids.length;
  const shape = [rows.length, seq];
  const mask = Int32Array.from(rows.flatMap((r) => r.ids.map((_, t) => (t < r.length ? 1 : 0))));
  const ids = Int32Array.from(rows.flatMap((r) => r.ids.map((id, t) => (t < r.length ? id : 0))));
  return {
    input_ids: { shape, data: ids },
    attention_mask: { shape, data: mask },
    token_type_ids: { shape, data: new Int32Array(ids.length) },
  };
}

/** A generated subject with inputs it can run on (shrinks both). */
export const lawCaseArb: fc.Arbitrary<LawCase> = subjectArb.chain((subject) =>
  inputsArb(subject.model, subject.program).map((inputs) => lawCase(subject, inputs)),
);

export interface LawCase {
  readonly subject: Subject;
  readonly inputs: Inputs;
}

/** A case that fast-check prints as its program and token ids rather than every weight. */
export function lawCase(subject: Subject, inputs: Inputs): LawCase {
  return {
    subject,
    inputs,
    [fc.toStringMethod]: () =>
      `${describeSubject(subject)}\ninputs: ${JSON.stringify(inputsJson(inputs))}\nweights: randomWeights, seeded by the scenario`,
  } as LawCase;
}
