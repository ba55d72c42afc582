// The learning-rate schedule and gradient clipping of the Hugging Face Trainer.

/** get_linear_schedule_with_warmup: the factor for the optimizer step taken after `step` earlier ones. */
export function linearWarmupDecay(step: number, totalSteps: number, warmupSteps: number): number {
  if (step < warmupSteps) return step / Math.max(1, warmupSteps);
  return Math.max(0, (totalSteps - step) / Math.max(1, totalSteps - warmupSteps));
}

/** torch.nn.utils.clip_grad_norm_: scales all gradients in place so their joint L2 norm is ≤ maxNorm. */
export function clipGradNorm(grads: ReadonlyMap<string, Float32Array>, maxNorm: number): number {
  let sumSquares = 0;
  for (const g of grads.values()) for (const x of g) sumSquares += x * x;
  const norm = Math.sqrt(sumSquares);
  const coef = maxNorm / (norm + 1e-6);
  if (coef < 1) for (const g of grads.values()) for (let i = 0; i < g.length; i++) g[i] *= coef;
  return norm;
}
