// AdamW as torch.optim.AdamW computes it (decoupled weight decay, bias-corrected moments), with the
// Hugging Face Trainer's defaults and its parameter groups: no weight decay for biases and LayerNorm
// weights. AdapterTrainer's attempt to exempt the fusion value matrices never matches (semantics §1.5),
// so they decay like any other weight.

export interface AdamWConfig {
  readonly learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
}

/** Trainer defaults, with AdapterHub's recommended learning rate 1e-4. */
export const ADAMW_DEFAULTS: AdamWConfig = {
  learningRate: 1e-4,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  weightDecay: 0,
};

const NO_DECAY = /(?:\.bias|LayerNorm\.weight|_norm_before\.weight|_norm_after\.weight)$/;

/** Whether weight decay applies to a parameter (Trainer.get_decay_parameter_names). */
export function decays(key: string): boolean {
  return !NO_DECAY.test(key);
}

interface Moments {
  readonly m: Float64Array;
  readonly v: Float64Array;
}

export class AdamW {
  private readonly moments = new Map<string, Moments>();
  private steps = 0;

  constructor(readonly config: AdamWConfig = ADAMW_DEFAULTS) {}

  get stepCount(): number {
    return this.steps;
  }

  /** Updates every parameter in place with its gradient; `lr` is the scheduled learning rate. */
  step(
    params: ReadonlyMap<string, Float32Array>,
    grads: ReadonlyMap<string, Float32Array>,
    lr: number,
  ): void {
    this.steps++;
    const { beta1, beta2, eps, weightDecay } = this.config;
    const correction1 = 1 - beta1 ** this.steps;
    const correction2 = 1 - beta2 ** this.steps;
    for (const [key, p] of params) {
      const g = grads.get(key);
      if (!g) continue; // torch skips parameters whose .grad is None
      const { m, v } = this.momentsOf(key, p.length);
      const decay = decays(key) ? 1 - lr * weightDecay : 1;
      for (let i = 0; i < p.length; i++) {
        m[i] = beta1 * m[i] + (1 - beta1) * g[i];
        v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i];
        const denom = Math.sqrt(v[i]) / Math.sqrt(correction2) + eps;
        p[i] = p[i] * decay - ((lr / correction1) * m[i]) / denom;
      }
    }
  }

  private momentsOf(key: string, size: number): Moments {
    let state = this.moments.get(key);
    if (!state) {
      state = { m: new Float64Array(size), v: new Float64Array(size) };
      this.moments.set(key, state);
    }
    return state;
  }
}
