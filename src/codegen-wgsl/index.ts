export * from './activation.ts';
export * from './attention-softmax.ts';
export * from './embedding.ts';
export * from './fusion-attention.ts';
export * from './kernel.ts';
export * from './layernorm.ts';
export * from './lowrank.ts';
export * from './matmul.ts';
