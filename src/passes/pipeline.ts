// The default inference pipeline, in order. Each pass preserves what the reference interpreter
// computes (test/passes/preserve.test.ts checks every one of them on generated compositions).
import { foldConstants } from './fold.ts';
import { mergeAdapters } from './merge-adapters.ts';
import { mergeParallel } from './parallel.ts';
import type { Pass } from './pass.ts';
import { simplify } from './simplify.ts';

export const INFERENCE_PASSES: readonly Pass[] = [
  simplify,
  mergeParallel,
  mergeAdapters,
  foldConstants,
  simplify,
];
