// Program edits the laws are built from: read a setup's shape, and derive variant programs (a channel
// alone, another setup, another drop set) by editing the CheckedProgram, never the source text.
import { singleConfigs } from '../config/adapter.ts';
import type { SingleAdapterConfig } from '../config/types.ts';
import type { CheckedProgram, Composition, HeadSetup } from '../dsl/checked.ts';

export type Block = Exclude<Composition, string>;

/** Adapter names of a composition, left to right. */
export function leavesOf(c: Composition | null): string[] {
  if (c === null) return [];
  return typeof c === 'string' ? [c] : c.children.flatMap(leavesOf);
}

/** The library's `last()`: the adapter a head is inferred from. */
export function lastAdapterOf(c: Composition): string {
  return typeof c === 'string' ? c : lastAdapterOf(c.children[c.children.length - 1]);
}

/** The block of `type` that is the setup, or the only child of a top-level Stack. */
export function topBlock<T extends Block['type']>(
  setup: Composition | null,
  type: T,
): Extract<Block, { type: T }> | null {
  if (setup === null || typeof setup === 'string') return null;
  if (setup.type === type) return setup as Extract<Block, { type: T }>;
  const only = setup.type === 'Stack' && setup.children.length === 1 ? setup.children[0] : null;
  return only !== null && typeof only !== 'string' && only.type === type
    ? (only as Extract<Block, { type: T }>)
    : null;
}

export function configsOf(program: CheckedProgram, adapter: string): readonly SingleAdapterConfig[] {
  const declared = program.adapters.get(adapter);
  return declared ? singleConfigs(declared.config) : [];
}

export const usesBottleneck = (program: CheckedProgram, c: Composition): boolean =>
  leavesOf(c).some((a) => configsOf(program, a).some((k) => k.architecture === 'bottleneck'));

/**
 * Quirk 3 and its kin: a block nested in another (a Stack, a Split, …) re-runs the bottleneck
 * pre_forward on the state it is given, so with bottleneck adapters a nested block differs from the
 * same block run alone, one level higher.
 */
export const isNestedBottleneckBlock = (program: CheckedProgram, child: Composition): boolean =>
  typeof child !== 'string' && usesBottleneck(program, child);

/** Prefix positions a composition prepends: a Stack's add up ([P_b, P_a, K]); other blocks pad to their longest. */
function prefixPositions(program: CheckedProgram, c: Composition): number {
  if (typeof c === 'string')
    return configsOf(program, c).reduce(
      (n, k) => n + (k.architecture === 'prefix_tuning' ? k.prefix_length : 0),
      0,
    );
  const each = c.children.map((x) => prefixPositions(program, x));
  return c.type === 'Stack' ? each.reduce((a, b) => a + b, 0) : Math.max(0, ...each);
}

/** Quirk 8: channels whose prefixes have different lengths are padded (and the padding is attended). */
export const prefixLengthsDiffer = (program: CheckedProgram, block: Exclude<Composition, string>): boolean =>
  new Set(block.children.map((c) => prefixPositions(program, c))).size > 1;

export const hasBlock = (c: Composition | null, type: Block['type']): boolean =>
  c !== null && typeof c !== 'string' && (c.type === type || c.children.some((x) => hasBlock(x, type)));

export function withSetup(
  program: CheckedProgram,
  setup: Composition | null,
  headSetup: HeadSetup = program.headSetup,
): CheckedProgram {
  return { ...program, setup, headSetup };
}

/** A single-head setup, or none. */
export const singleHead = (head: string | null): HeadSetup =>
  head === null ? null : { kind: 'single', head };

/** Every layer index of the model. */
export const allLayers = (count: number): number[] => Array.from({ length: count }, (_, i) => i);
