// fast-check arbitraries for composition semantics: tiny models, adapters of every supported method,
// valid compositions over them (the library's nesting table, depth rule and per-method support),
// AdapterDrop sets and padded inputs. They shrink toward small models and flat compositions.
import fc from 'fast-check';
import { ADAPTER_PRESETS, FUSION_PRESETS, resolveHeadConfig } from '../config/index.ts';
import type { AdapterConfig, FusionConfig, SingleAdapterConfig } from '../config/types.ts';
import type { BlockType } from '../dsl/ast.ts';
import type { CheckedProgram, Composition, HeadSetup } from '../dsl/checked.ts';
import { ALLOWED_NESTINGS } from '../dsl/composition.ts';
import type { EncoderConfig } from '../lower/model-config.ts';
import { programOf, tinyEncoderConfig } from './model.ts';

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

/**
 * One adapter config of the family; every adapter of a scenario shares it (mixed methods are rejected).
 * LoRA stays on q/k/v: a Stack of LoRAs feeds one's delta into the next, which needs a square layer.
 */
export function adapterConfigArb(family: Family): fc.Arbitrary<AdapterConfig> {
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
  const parallel = fc
    .integer({ min: 2, max: 3 })
    .chain((n) =>
      fc.tuple(
        ...Array.from({ length: n }, () =>
          fc.oneof(
            fc.constantFrom(...names),
            fc
              .constantFrom('Stack', 'Average', 'BatchSplit' as BlockType)
              .filter((t) => FAMILY_BLOCKS[family].includes(t))
              .chain((t) => blockArb(t, 1, family, names, room)),
          ),
        ),
      ),
    )
    .map((children): Composition => ({ type: 'Parallel', children }));
  return fc.oneof(
    { weight: 3, arbitrary: plain },
    { weight: 1, arbitrary: parallel },
    { weight: 1, arbitrary: parallel.map((p): Composition => ({ type: 'Stack', children: [p] })) },
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

/** A whole scenario: a tiny model, homogeneous adapters, a valid setup, a drop set and input sizes. */
export const scenarioArb: fc.Arbitrary<Scenario> = fc
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
          config: adapterConfigArb(family),
          setup: compositionArb(family, names, { rows: batch, seq }),
          fusion: fusionConfigArb,
          skip: fc.subarray(Array.from({ length: model.numLayers }, (_, i) => i)),
        })
        // A Parallel block needs one layer with adapters to replicate the batch in.
        .filter(({ setup, skip }) => headsFor(setup)?.kind !== 'parallel' || skip.length < model.numLayers)
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
