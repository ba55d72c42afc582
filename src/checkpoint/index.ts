// Checkpoint I/O: safetensors, torch .bin (zip and legacy), Hugging Face model folders, AdapterHub
// module folders and PEFT LoRA import. Every bad or hostile file surfaces as a CheckpointError.
export * from './adapterhub.ts';
export * from './hf-model.ts';
export * from './peft.ts';
export * from './safetensors.ts';
export * from './tensor.ts';
export * from './torch-bin.ts';
