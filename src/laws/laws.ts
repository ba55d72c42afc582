// The composition laws (SPEC.md, "Laws"). Each compares reference-interpreter outputs of the subject
// (or a variant program) with a variant built by editing the CheckedProgram, within TOLERANCE.
import type { Composition } from '../dsl/checked.ts';
import type { Inputs, Tensor } from '../runtime/reference/interpret.ts';
import {
  type Counterexample,
  firstDifference,
  inputRows,
  type Law,
  type Outputs,
  pick,
  rowsOf,
  runProgram,
  type Subject,
} from './law.ts';
import {
  allLayers,
  type Block,
  configsOf,
  hasBlock,
  isNestedBottleneckBlock,
  lastAdapterOf,
  leavesOf,
  prefixLengthsDiffer,
  singleHead,
  topBlock,
  withSetup,
} from './program.ts';
import { compositionText } from './source.ts';

/** A law's verdict from a difference line (or none). */
const verdict = (
  law: string,
  subject: Subject,
  inputs: Inputs,
  message: string | null,
): Counterexample | null => (message === null ? null : { law, subject, inputs, message });

/** The first counterexample of several comparisons, each run only if the ones before agreed. */
function firstOf(checks: readonly (() => Counterexample | null)[]): Counterexample | null {
  for (const check of checks) {
    const found = check();
    if (found) return found;
  }
  return null;
}

/** The base outputs plus one head output under the neutral name `head`. */
function channelView(
  outputs: Outputs,
  head: string | null,
  rows?: readonly [number, number],
): Map<string, Tensor> {
  const cut = (name: string) => {
    const t = outputs.get(name)!;
    return rows ? rowsOf(t, rows[0], rows[1]) : t;
  };
  const view = new Map([
    ['last_hidden_state', cut('last_hidden_state')],
    ['pooler_output', cut('pooler_output')],
  ]);
  if (head !== null) view.set('head', outputs.get(`heads.${head}`)!);
  return view;
}

/** The setup with its top block (or the top Stack's only child) replaced. */
function replaceTop(setup: Composition, block: Composition): Composition {
  return typeof setup !== 'string' && setup.type === 'Stack' && setup.children.length === 1
    ? { type: 'Stack', children: [block] }
    : block;
}

/** The head a composition gets when it runs alone: one named like its last adapter, else `fallback`. */
function headAlone(subject: Subject, c: Composition, fallback: string | null): string | null {
  const own = lastAdapterOf(c);
  return subject.program.heads.has(own) ? own : fallback;
}

const inputRowCount = (inputs: Inputs): number => inputs.input_ids!.shape[0];

export const stackOfOneAdapter: Law = {
  name: 'stack-of-one-adapter',
  statement: 'Stack(a) = a',
  applies: (s) => s.program.setup !== null,
  check(subject, inputs) {
    const { program } = subject;
    return firstOf(
      [...new Set(leavesOf(program.setup))].map((a) => () => {
        const heads = singleHead(program.heads.has(a) ? a : null);
        const stacked = runProgram(
          subject,
          withSetup(program, { type: 'Stack', children: [a] }, heads),
          inputs,
        );
        const bare = runProgram(subject, withSetup(program, a, heads), inputs);
        return verdict(this.name, subject, inputs, firstDifference(stacked, bare, `Stack(${a})`, a));
      }),
    );
  },
};

/** The setup as a block B ≠ Stack and as Stack(B), whichever the subject is not. */
function stackPair(setup: Composition | null): readonly [Block, Block] | null {
  if (setup === null || typeof setup === 'string') return null;
  if (setup.type !== 'Stack') return [{ type: 'Stack', children: [setup] }, setup];
  const only = setup.children.length === 1 ? setup.children[0] : null;
  return only !== null && typeof only !== 'string' && only.type !== 'Stack' ? [setup, only] : null;
}

export const stackOfOneBlock: Law = {
  name: 'stack-of-one-block',
  statement: 'Stack(B) = B for a block B ≠ Stack (e.g. Stack(Fuse(a, b)) = Fuse(a, b))',
  applies: (s) => stackPair(s.program.setup) !== null,
  check(subject, inputs) {
    const [stacked, block] = stackPair(subject.program.setup)!;
    const run = (c: Composition) => runProgram(subject, withSetup(subject.program, c), inputs);
    return verdict(
      this.name,
      subject,
      inputs,
      firstDifference(run(stacked), run(block), compositionText(stacked), compositionText(block)),
    );
  },
};

/**
 * Quirk 3 reaches across siblings: a nested block's re-run pre_forward acts on the block's whole state,
 * so a block with such a child is left out of the channel laws altogether.
 */
const lawfulBlock = (subject: Subject, block: Block): boolean =>
  !block.children.some((c) => isNestedBottleneckBlock(subject.program, c));

const indices = (block: Block): number[] => block.children.map((_, i) => i);

export const parallelChannel: Law = {
  name: 'parallel-channel',
  statement:
    'channel i of Parallel(c₁…cₙ) (rows iB…(i+1)B−1, head hᵢ) = cᵢ alone (with the head cᵢ has alone)',
  exceptions:
    'quirk 3: a block nested in a channel (Stack, Average, …) with bottleneck adapters re-runs pre_forward on the rows of every channel; quirk 8: channels with prefixes of different total lengths are padded',
  applies(s) {
    const block = topBlock(s.program.setup, 'Parallel');
    return (
      block !== null &&
      lawfulBlock(s, block) &&
      !prefixLengthsDiffer(s.program, block) &&
      s.program.skipLayers.length < s.model.numLayers
    );
  },
  check(subject, inputs) {
    const { program } = subject;
    const block = topBlock(program.setup, 'Parallel')!;
    const rows = inputRowCount(inputs);
    const together = runProgram(subject, program, inputs);
    const headOf = (i: number) =>
      program.headSetup?.kind === 'parallel' ? program.headSetup.heads[i] : null;
    return firstOf(
      indices(block).map((i) => () => {
        const c = block.children[i];
        const alone = headAlone(subject, c, headOf(i));
        const single = runProgram(subject, withSetup(program, c, singleHead(alone)), inputs);
        return verdict(
          this.name,
          subject,
          inputs,
          firstDifference(
            channelView(together, headOf(i), [i * rows, (i + 1) * rows]),
            channelView(single, alone),
            `Parallel channel ${i}${headOf(i) ? ` with head ${headOf(i)}` : ''}`,
            `${compositionText(c)} alone${alone ? ` with head ${alone}` : ''}`,
          ),
        );
      }),
    );
  },
};

const hasMultipleChoiceHead = (s: Subject): boolean =>
  [...s.program.heads.values()].some((h) => h.config.head_type === 'multiple_choice');

export const batchSplitRows: Law = {
  name: 'batch-split-rows',
  statement: 'rows of child i of BatchSplit(c₁…cₙ, batch_sizes) = cᵢ alone on those rows',
  exceptions: 'quirk 3 (a nested block with bottleneck adapters re-runs pre_forward on all rows); quirk 8',
  applies(s) {
    const block = topBlock(s.program.setup, 'BatchSplit');
    return (
      block !== null &&
      lawfulBlock(s, block) &&
      !prefixLengthsDiffer(s.program, block) &&
      !hasMultipleChoiceHead(s)
    );
  },
  check(subject, inputs) {
    const { program } = subject;
    const block = topBlock(program.setup, 'BatchSplit')!;
    const together = runProgram(subject, program, inputs);
    const starts = block.batch_sizes.map((_, i) => block.batch_sizes.slice(0, i).reduce((a, b) => a + b, 0));
    const heads = program.headSetup;
    return firstOf(
      indices(block).map((i) => () => {
        const c = block.children[i];
        const span = [starts[i], starts[i] + block.batch_sizes[i]] as const;
        const head = heads === null ? null : heads.kind === 'single' ? heads.head : heads.heads[i];
        const left = channelView(together, null, span);
        if (head !== null) {
          const out = together.get(`heads.${head}`)!;
          left.set('head', heads?.kind === 'single' ? rowsOf(out, span[0], span[1]) : out);
        }
        const single = runProgram(
          subject,
          withSetup(program, c, singleHead(head)),
          inputRows(inputs, ...span),
        );
        return verdict(
          this.name,
          subject,
          inputs,
          firstDifference(
            left,
            channelView(single, head),
            `BatchSplit child ${i} (rows ${span[0]}..${span[1] - 1})`,
            `${compositionText(c)} alone on those rows`,
          ),
        );
      }),
    );
  },
};

export const dropAll: Law = {
  name: 'drop-all',
  statement: 'setup X drop 0..L−1 = the bare model (same heads)',
  exceptions: 'not for Parallel: with no layer to replicate the batch in, the heads have no channel rows',
  applies: (s) => s.program.setup !== null && !hasBlock(s.program.setup, 'Parallel'),
  check(subject, inputs) {
    const { program } = subject;
    const dropped = runProgram(
      subject,
      { ...program, skipLayers: allLayers(subject.model.numLayers) },
      inputs,
    );
    const bare = runProgram(subject, { ...withSetup(program, null), skipLayers: [] }, inputs);
    return verdict(
      this.name,
      subject,
      inputs,
      firstDifference(dropped, bare, 'every layer dropped', 'bare model'),
    );
  },
};

export const averageOneHot: Law = {
  name: 'average-weights',
  statement: 'Average(c₁…cₙ, w) = Σᵢ wᵢ·hᵢ / N; so with unnormalized w = N·eᵢ it is cᵢ alone',
  exceptions:
    'quirk 1 is the law (the library divides by N after normalizing); quirk 3 for nested blocks with bottleneck adapters',
  applies(s) {
    const block = topBlock(s.program.setup, 'Average');
    return block !== null && lawfulBlock(s, block);
  },
  check(subject, inputs) {
    const { program } = subject;
    const block = topBlock(program.setup, 'Average')!;
    const n = block.children.length;
    return firstOf(
      indices(block).map((i) => () => {
        const weights = block.children.map((_, j) => (j === i ? n : 0));
        const averaged: Composition = { ...block, weights };
        const left = runProgram(subject, withSetup(program, replaceTop(program.setup!, averaged)), inputs);
        const right = runProgram(subject, withSetup(program, block.children[i]), inputs);
        const names = [...right.keys()].filter((k) => !k.startsWith('fusion_attentions.'));
        return verdict(
          this.name,
          subject,
          inputs,
          firstDifference(
            pick(left, names),
            pick(right, names),
            compositionText(averaged),
            `${compositionText(block.children[i])} alone`,
          ),
        );
      }),
    );
  },
};

export const averagePermutation: Law = {
  name: 'average-permutation',
  statement: 'Average(c_π(1)…c_π(n), w_π) = Average(c₁…cₙ, w) for every permutation π',
  applies: (s) => topBlock(s.program.setup, 'Average') !== null,
  check(subject, inputs) {
    const { program } = subject;
    const block = topBlock(program.setup, 'Average')!;
    const rotate = <T>(xs: readonly T[]) => [...xs.slice(1), xs[0]];
    const rotated: Composition = {
      ...block,
      children: rotate(block.children),
      weights: rotate(block.weights),
    };
    const left = runProgram(subject, program, inputs);
    const right = runProgram(subject, withSetup(program, replaceTop(program.setup!, rotated)), inputs);
    return verdict(
      this.name,
      subject,
      inputs,
      firstDifference(left, right, compositionText(block), compositionText(rotated)),
    );
  },
};

/** The single adapter of a `setup a` / `Stack(a)` program. */
function soleAdapter(setup: Composition | null): string | null {
  if (setup === null) return null;
  if (typeof setup === 'string') return setup;
  const only = setup.type === 'Stack' && setup.children.length === 1 ? setup.children[0] : null;
  return typeof only === 'string' ? only : null;
}

export const loraMerge: Law = {
  name: 'lora-merge',
  statement: 'merge a: W + (α/r)·B·A in place of W x + b + (α/r)·B·A x, equal to float rounding',
  exceptions:
    'not IA³ (quirk 6: the library’s merge leaves the bias unscaled), not gated LoRA (cannot merge), not with drop (a merged weight stays in dropped layers)',
  applies(s) {
    const a = soleAdapter(s.program.setup);
    if (a === null || s.program.skipLayers.length > 0 || (s.program.merged ?? []).length > 0) return false;
    const configs = configsOf(s.program, a);
    return (
      configs.length === 1 &&
      configs[0].architecture === 'lora' &&
      configs[0].composition_mode === 'add' &&
      !configs[0].use_gating
    );
  },
  check(subject, inputs) {
    const a = soleAdapter(subject.program.setup)!;
    const merged = runProgram(subject, { ...subject.program, merged: [a] }, inputs);
    const unmerged = runProgram(subject, subject.program, inputs);
    return verdict(
      this.name,
      subject,
      inputs,
      firstDifference(unmerged, merged, `${a} unmerged`, `merge ${a}`),
    );
  },
};

/** LoRA/IA³ adapters of the setup and the value of lora_B that makes each the identity. */
function identityValues(subject: Subject): Map<string, number> | null {
  const values = new Map<string, number>();
  for (const a of leavesOf(subject.program.setup)) {
    const configs = configsOf(subject.program, a);
    if (configs.length !== 1 || configs[0].architecture !== 'lora') return null;
    const c = configs[0];
    if (c.composition_mode === 'scale' && c.use_gating) return null;
    values.set(a, c.composition_mode === 'add' ? 0 : 1 / c.alpha);
  }
  return values;
}

export const zeroUpIdentity: Law = {
  name: 'zero-up-identity',
  statement: 'LoRA with B = 0 (IA³ with α·l = 1) in any setup X = the bare model',
  exceptions:
    'LoRA and IA³ only: a bottleneck’s zero up-projection still runs its LayerNorms and residual choice; IA³ not under Average (quirk 1: Σ wᵢ·1/N ≠ 1); not with Parallel',
  applies(s) {
    const setup = s.program.setup;
    const values = identityValues(s);
    const scaled = [...(values?.values() ?? [])].some((v) => v !== 0);
    return (
      setup !== null &&
      values !== null &&
      (s.program.merged ?? []).length === 0 &&
      !hasBlock(setup, 'Parallel') &&
      !(scaled && hasBlock(setup, 'Average'))
    );
  },
  check(subject, inputs) {
    const values = identityValues(subject)!;
    const weights = new Map(subject.weights);
    for (const [key, t] of subject.weights) {
      const owner = [...values.keys()].find((a) => key.includes(`.loras.${a}.`));
      if (owner !== undefined && key.endsWith('.lora_B'))
        weights.set(key, { shape: t.shape, data: new Float32Array(t.data.length).fill(values.get(owner)!) });
    }
    const identity = runProgram({ ...subject, weights }, subject.program, inputs);
    const bare = runProgram(subject, withSetup(subject.program, null), inputs);
    const names = [...bare.keys()];
    return verdict(
      this.name,
      subject,
      inputs,
      firstDifference(pick(identity, names), bare, 'adapters set to the identity', 'bare model'),
    );
  },
};

/** Layers where none of the setup's adapters sits (every config of every adapter leaves them out). */
function adapterFreeLayers(subject: Subject): number[] {
  const configs = leavesOf(subject.program.setup).flatMap((a) => configsOf(subject.program, a));
  return allLayers(subject.model.numLayers).filter((l) => configs.every((c) => c.leave_out.includes(l)));
}

/** The subject's drop set with every adapter-free layer added. */
const widenedDrop = (subject: Subject): number[] =>
  [...new Set([...subject.program.skipLayers, ...adapterFreeLayers(subject)])].sort((a, b) => a - b);

export const dropUnusedLayers: Law = {
  name: 'drop-unused-layers',
  statement:
    'X drop S ∪ E = X drop S for layers E where no adapter of X sits (leave_out); with S = ∅: dropping no adapter layer = no drop',
  applies: (s) => s.program.setup !== null && widenedDrop(s).length > s.program.skipLayers.length,
  check(subject, inputs) {
    const widened = widenedDrop(subject);
    const left = runProgram(subject, { ...subject.program, skipLayers: widened }, inputs);
    const right = runProgram(subject, subject.program, inputs);
    const label =
      subject.program.skipLayers.length > 0 ? `drop ${subject.program.skipLayers.join(', ')}` : 'no drop';
    return verdict(
      this.name,
      subject,
      inputs,
      firstDifference(left, right, `drop ${widened.join(', ')}`, label),
    );
  },
};
