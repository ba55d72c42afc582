// What a composition law is, and the pieces every law is made of: a subject (model + program + weights),
// running a program variant on the reference interpreter, and comparing outputs within a tolerance.
import type { CheckedProgram } from '../dsl/checked.ts';
import type { Graph } from '../ir/graph.ts';
import type { WeightStore } from '../load/weights.ts';
import { lowerProgram } from '../lower/bert.ts';
import type { EncoderConfig } from '../lower/model-config.ts';
import { type Inputs, interpret, type Tensor } from '../runtime/reference/interpret.ts';

/** What a law is checked on: a model config, a checked program and a value for every parameter it reads. */
export interface Subject {
  readonly model: EncoderConfig;
  readonly program: CheckedProgram;
  readonly weights: WeightStore;
}

/** A law broken: the subject and inputs that break it and what differed. */
export interface Counterexample {
  readonly law: string;
  readonly subject: Subject;
  readonly inputs: Inputs;
  /** One readable line, e.g. "heads.h0[3]: 0.412 (Parallel channel 1) vs 0.377 (a1 alone)". */
  readonly message: string;
}

export interface Law {
  /** kebab-case; used for file names of counterexamples. */
  readonly name: string;
  /** The law in one line of math. */
  readonly statement: string;
  /** Where the library departs from the intuitive law, and so where the law does not apply. */
  readonly exceptions?: string;
  applies(subject: Subject): boolean;
  check(subject: Subject, inputs: Inputs): Counterexample | null;
}

/** Largest |a−b|/(1+|a|) allowed between two computations that should agree (float32 rounding). */
export const TOLERANCE = 1e-5;

export type Outputs = ReadonlyMap<string, Tensor>;

/** Lowers `program` over the subject's model and runs it on the reference interpreter. */
export function runProgram(subject: Subject, program: CheckedProgram, inputs: Inputs): Outputs {
  return runGraph(lowerProgram(program, subject.model), subject.weights, inputs);
}

export function runGraph(graph: Graph, weights: WeightStore, inputs: Inputs): Outputs {
  return interpret(graph, (key) => weights.get(key), inputs);
}

/** Rows [start, end) of a tensor (axis 0). */
export function rowsOf(t: Tensor, start: number, end: number): Tensor {
  const width = t.shape.slice(1).reduce((a, b) => a * b, 1);
  return { shape: [end - start, ...t.shape.slice(1)], data: t.data.slice(start * width, end * width) };
}

/** Rows [start, end) of every input tensor. */
export function inputRows(inputs: Inputs, start: number, end: number): Inputs {
  return Object.fromEntries(
    Object.entries(inputs).map(([name, t]) => [name, t && rowsOf(t, start, end)]),
  ) as Inputs;
}

/**
 * The first output where `left` and `right` disagree beyond the tolerance, as a readable line naming
 * both sides; null when they agree. Both maps must have the same names (a missing one is a difference).
 */
export function firstDifference(
  left: Outputs,
  right: Outputs,
  leftLabel: string,
  rightLabel: string,
  tolerance = TOLERANCE,
): string | null {
  for (const [name, a] of left) {
    const b = right.get(name);
    if (!b) return `${name}: produced by ${leftLabel} but not by ${rightLabel}`;
    if (a.shape.join() !== b.shape.join())
      return `${name}: shape [${a.shape}] (${leftLabel}) vs [${b.shape}] (${rightLabel})`;
    let worst = -1;
    let worstError = tolerance;
    a.data.forEach((v, i) => {
      const error = Math.abs(v - b.data[i]) / (1 + Math.abs(v));
      if (!(error <= worstError)) {
        worst = i;
        worstError = error;
      }
    });
    if (worst >= 0) {
      return `${name}[${worst}]: ${a.data[worst]} (${leftLabel}) vs ${b.data[worst]} (${rightLabel}), relative error ${worstError.toExponential(2)}`;
    }
  }
  const missing = [...right.keys()].find((name) => !left.has(name));
  return missing === undefined ? null : `${missing}: produced by ${rightLabel} but not by ${leftLabel}`;
}

/** Only the named outputs (those both sides of a law produce). */
export function pick(outputs: Outputs, names: readonly string[]): Map<string, Tensor> {
  return new Map(names.flatMap((n) => (outputs.has(n) ? [[n, outputs.get(n)!] as const] : [])));
}
