// `adaptc train FILE.adapt --data train.jsonl --epochs N --out DIR`: trains the program's trainable set
// on the reference interpreter or a WebGPU device and saves the trained modules in AdapterHub's folder layout.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { AutodiffError } from '../../autodiff/index.ts';
import { readJsonObject } from '../../checkpoint/hf-model.ts';
import { compileFile } from '../../compiler.ts';
import type { AcquiredDevice } from '../../runtime/webgpu/device.ts';
import { acquireNodeDevice } from '../../runtime/webgpu/device-node.ts';
import { loadTokenizer } from '../../tokenizer/index.ts';
import { referenceBackend, webgpuBackend } from '../../train/backend.ts';
import { saveTrainedModules } from '../../train/checkpoint.ts';
import { readJsonl } from '../../train/data.ts';
import { dropoutRatesOf } from '../../train/dropout.ts';
import { type EpochReport, TRAIN_DEFAULTS, type TrainOptions, train } from '../../train/loop.ts';
import { lossCurveSvg } from '../../train/loss-curve.ts';
import { progressLine } from '../../train/progress.ts';
import { backendOption, type Command, EXIT_OK, EXIT_USER_ERROR } from '../command.ts';
import { reportUserError } from '../errors.ts';

const USAGE = `usage: adaptc train FILE.adapt --data train.jsonl [--eval eval.jsonl] --epochs N --out DIR [options]

Trains what the file's \`train\` statement leaves trainable (AdapterHub's train_adapter /
train_adapter_fusion) on the reference interpreter or WebGPU, then writes every trained adapter, fusion and head
to DIR/<name>/ in AdapterHub's layout (loadable by the Python library and by \`adaptc run\`), and the
loss curve to DIR/loss.svg.
  --data FILE          JSONL rows: {"text": "…"} or {"input_ids": […]}, with "label" (or "labels")
  --eval FILE          held-out rows in the same form: loss and accuracy after every epoch
  --epochs N           passes over the data (default ${TRAIN_DEFAULTS.epochs})
  --out DIR            where the trained modules go
  --batch-size N       default ${TRAIN_DEFAULTS.batchSize}
  --lr X               AdamW learning rate (default ${TRAIN_DEFAULTS.optimizer.learningRate})
  --weight-decay X     default ${TRAIN_DEFAULTS.optimizer.weightDecay}
  --warmup-steps N     linear warmup, then linear decay to 0 (default ${TRAIN_DEFAULTS.warmupSteps})
  --max-grad-norm X    gradient clipping (default ${TRAIN_DEFAULTS.maxGradNorm})
  --seed N             shuffling, dropout and AdapterDrop draws (default ${TRAIN_DEFAULTS.seed})
  --backend NAME       reference (the CPU interpreter, default) or webgpu (forward and backward kernels on a GPU)
  --no-dropout         train in eval mode; by default dropout is on at the model config's rates`;

function numberOption(name: string, value: string | undefined, fallback: number, integer: boolean): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n)))
    throw new AutodiffError(
      `--${name} must be a non-negative ${integer ? 'integer' : 'number'}, not '${value}'`,
    );
  return n;
}

function epochLine(r: EpochReport): string {
  const evaluation = r.eval
    ? `, eval loss ${r.eval.loss.toFixed(4)}, eval accuracy ${r.eval.accuracy.toFixed(4)}`
    : '';
  return `epoch ${r.epoch + 1}: train loss ${r.meanLoss.toFixed(4)}${evaluation}\n`;
}

export const trainCommand: Command = {
  name: 'train',
  summary: 'train adapters, fusions and heads; save them in AdapterHub folders',
  usage: USAGE,
  async run(args) {
    const { values, positionals } = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: {
        data: { type: 'string' },
        eval: { type: 'string' },
        epochs: { type: 'string' },
        out: { type: 'string' },
        'batch-size': { type: 'string' },
        lr: { type: 'string' },
        'weight-decay': { type: 'string' },
        'warmup-steps': { type: 'string' },
        'max-grad-norm': { type: 'string' },
        seed: { type: 'string' },
        'no-dropout': { type: 'boolean' },
        backend: { type: 'string', default: 'reference' },
      },
    });
    if (positionals.length !== 1 || values.data === undefined || values.out === undefined) {
      process.stderr.write(`${USAGE}\n`);
      return EXIT_USER_ERROR;
    }
    const backend = backendOption('train', values.backend);
    if (backend === null) return EXIT_USER_ERROR;
    let device: AcquiredDevice | undefined;
    try {
      const d = TRAIN_DEFAULTS;
      const options: TrainOptions = {
        epochs: numberOption('epochs', values.epochs, d.epochs, true),
        batchSize: Math.max(1, numberOption('batch-size', values['batch-size'], d.batchSize, true)),
        optimizer: {
          ...d.optimizer,
          learningRate: numberOption('lr', values.lr, d.optimizer.learningRate, false),
          weightDecay: numberOption('weight-decay', values['weight-decay'], d.optimizer.weightDecay, false),
        },
        warmupSteps: numberOption('warmup-steps', values['warmup-steps'], d.warmupSteps, true),
        maxGradNorm: numberOption('max-grad-norm', values['max-grad-norm'], d.maxGradNorm, false),
        seed: numberOption('seed', values.seed, d.seed, true),
        dropout: null,
      };
      const compiled = compileFile(positionals[0]);
      const dropout = values['no-dropout']
        ? null
        : dropoutRatesOf(readJsonObject(join(compiled.program.model, 'config.json')));
      if (compiled.program.training === null)
        throw new AutodiffError(`${positionals[0]} has no train statement: nothing to train`);
      const tokenizer = () => loadTokenizer(compiled.program.model);
      const data = readJsonl(values.data, tokenizer);
      const evalData = values.eval === undefined ? null : readJsonl(values.eval, tokenizer);
      const started = performance.now();
      let examples = 0;
      const showProgress = process.stderr.isTTY === true;
      if (backend === 'webgpu') {
        device = await acquireNodeDevice();
        process.stderr.write(`adaptc train: on WebGPU (${device.adapterInfo.description})\n`);
      }
      const backendFactory = device === undefined ? referenceBackend : webgpuBackend(device);
      const result = await train(compiled, data, { ...options, dropout, backend: backendFactory }, evalData, {
        onStep: (r) => {
          examples += r.examples;
          if (showProgress)
            process.stderr.write(progressLine(r, examples / ((performance.now() - started) / 1000)));
        },
        onEpoch: (r) => {
          if (showProgress) process.stderr.write('\n');
          process.stdout.write(epochLine(r));
        },
      });
      const saved = saveTrainedModules(values.out, compiled.program, compiled.model, result.weights);
      writeFileSync(join(values.out, 'loss.svg'), lossCurveSvg(result.losses));
      for (const m of saved) process.stdout.write(`saved ${m.kind} ${m.name} → ${join(values.out, m.dir)}\n`);
      return EXIT_OK;
    } catch (e) {
      if (e instanceof AutodiffError) {
        process.stderr.write(`adaptc train: ${e.message}\n`);
        return EXIT_USER_ERROR;
      }
      return reportUserError('train', e);
    } finally {
      device?.release();
    }
  },
};
