// `adaptc bench` (npm run bench): the WebGPU runtime's benchmarks, as markdown tables on stdout.
import { parseArgs } from 'node:util';
import { benchmarkMatmul } from '../../bench/matmul.ts';
import {
  BERT_BASE_SHAPE,
  benchBatchSplit,
  benchDrop,
  benchFusedVsUnfused,
  benchParallel,
  describe,
  type ModelShape,
  profileFusedVsUnfused,
  type RuntimeBenchOptions,
} from '../../bench/runtime.ts';
import { benchTrainStep, type StepTiming } from '../../bench/train-step.ts';
import { schedulesFor } from '../../codegen-wgsl/schedules.ts';
import type { AcquiredDevice } from '../../runtime/webgpu/device.ts';
import { acquireNodeDevice } from '../../runtime/webgpu/device-node.ts';
import { webgpuBackend } from '../../train/backend.ts';
import { type Command, EXIT_OK, EXIT_USER_ERROR } from '../command.ts';
import { reportUserError } from '../errors.ts';

const SECTIONS = ['a', 'b', 'c', 'd', 'e', 'f', 'p'];
/** What runs without --only: p is a diagnosis of (a), not a measurement. */
const DEFAULT_SECTIONS = ['a', 'b', 'c', 'd', 'e', 'f'];

const USAGE = `usage: adaptc bench [--only a,b,c,d,e,f,p] [--layers N] [--batch B] [--seq T] [--repeats R]

Benchmarks the WebGPU runtime (llvmpipe when there is no GPU):
  (a) fused vs one kernel per op: Fuse(a,b,c) + head on a BERT-base-shaped model
  (b) matmul GFLOP/s (default schedule) vs numpy sgemm
  (c) Parallel of 8 bottleneck adapters (8 heads) merged vs 8 separate runs, at B×T and 1×16
  (d) drop 0..4 vs no drop on that Parallel of 8 (with the FLOP bound)
  (e) BatchSplit of 8 LoRAs (one row each) vs one LoRA on the whole batch
  (f) one training step on the BERT-base shape: one bottleneck adapter (and its head) vs every parameter
  (p) only with --only: where (a)'s time goes, kernel by kernel (each launch submitted alone)
  --layers N   encoder layers of the BERT-base shape in (a) (default 12)
  --batch B, --seq T   sizes (default 8 × 128)
  --repeats R  timed runs per measurement after a warm-up (default 3)
(c)–(e) use a narrower 12-layer encoder (hidden 256, 4 heads, FFN 1024) so that llvmpipe finishes in minutes;
(f) runs at batch 2 × seq 128 (the full step reads back every gradient).`;

const ADAPTER_MODEL: ModelShape = { hidden: 256, layers: 12, heads: 4, intermediate: 1024 };

export const benchCommand: Command = {
  name: 'bench',
  summary: 'benchmark the WebGPU runtime (fusion, matmul, Parallel, AdapterDrop, BatchSplit)',
  usage: USAGE,
  async run(args) {
    let values: Record<string, string | undefined>;
    try {
      values = parseArgs({
        args: [...args],
        options: {
          only: { type: 'string', default: DEFAULT_SECTIONS.join(',') },
          layers: { type: 'string', default: String(BERT_BASE_SHAPE.layers) },
          batch: { type: 'string', default: '8' },
          seq: { type: 'string', default: '128' },
          repeats: { type: 'string', default: '3' },
        },
      }).values;
    } catch (e) {
      process.stderr.write(`${(e as Error).message}\n${USAGE}\n`);
      return EXIT_USER_ERROR;
    }
    const numbers = ['layers', 'batch', 'seq', 'repeats'].map((k) => Number(values[k]));
    if (numbers.some((n) => !Number.isInteger(n) || n < 1)) {
      process.stderr.write(`adaptc bench: --layers, --batch, --seq and --repeats take positive integers\n`);
      return EXIT_USER_ERROR;
    }
    const [layers, batch, seq, repeats] = numbers;
    const only = new Set((values.only ?? '').split(','));
    const unknown = [...only].filter((s) => !SECTIONS.includes(s));
    if (unknown.length > 0) {
      process.stderr.write(
        `adaptc bench: unknown section ${unknown.join(', ')} (sections: ${SECTIONS.join(', ')})\n`,
      );
      return EXIT_USER_ERROR;
    }
    try {
      const device = await acquireNodeDevice();
      try {
        const log = (line: string) => process.stdout.write(`${line}\n`);
        log(`adapter: ${device.adapterInfo.description}`);
        const options: RuntimeBenchOptions = {
          device,
          fuseModel: { ...BERT_BASE_SHAPE, layers },
          adapterModel: ADAPTER_MODEL,
          batch,
          seq,
          repeats,
          log,
        };
        const sections: (() => Promise<string[]>)[] = [
          ...(only.has('a') ? [() => benchFusedVsUnfused(options)] : []),
          ...(only.has('b') ? [() => matmulSection(device, batch * seq)] : []),
          ...(only.has('c')
            ? [
                () =>
                  benchParallel(options, [
                    [batch, seq],
                    [1, 16],
                  ]),
              ]
            : []),
          ...(only.has('d') ? [() => benchDrop(options)] : []),
          ...(only.has('e') ? [() => benchBatchSplit(options)] : []),
          ...(only.has('p') ? [() => profileFusedVsUnfused(options)] : []),
          ...(only.has('f') ? [() => trainStepSection(device, { ...BERT_BASE_SHAPE, layers }, repeats)] : []),
        ];
        for (const section of sections) log(`\n${(await section()).join('\n')}`);
      } finally {
        device.release();
      }
      return EXIT_OK;
    } catch (e) {
      return reportUserError('bench', e);
    }
  },
};

/** (f) One training step, adapter-only vs every parameter trainable, on the device. */
async function trainStepSection(
  device: AcquiredDevice,
  shape: ModelShape,
  repeats: number,
): Promise<string[]> {
  const [batch, seq] = [2, 128];
  const { adapter, allParameters } = await benchTrainStep({
    backend: webgpuBackend(device),
    model: { ...shape, vocab: 30522, maxPositions: 512 },
    batch,
    seq,
    repeats,
  });
  const row = (name: string, t: StepTiming) =>
    `| ${name} | ${t.trainableTensors} | ${t.trainableValues.toLocaleString('en-US')} | ${(t.flops / 1e9).toFixed(1)} | ${t.ms.toFixed(0)} |`;
  return [
    `(f) one training step (forward, backward, AdamW), ${describe(shape)}, batch ${batch} × seq ${seq}`,
    '| trainable | tensors | values | GFLOP | median ms |',
    '|---|---|---|---|---|',
    row('one seq_bn adapter + head', adapter),
    row('every parameter', allParameters),
    `adapter training step ${(allParameters.ms / adapter.ms).toFixed(2)}× faster than full training`,
  ];
}

/** (b) The device's matmul schedule on a BERT-base FFN-shaped product, against numpy sgemm. */
async function matmulSection(device: AcquiredDevice, rows: number): Promise<string[]> {
  const schedule = schedulesFor(device.adapterInfo).matmul;
  const report = await benchmarkMatmul({
    device,
    M: rows,
    N: 3072,
    K: 768,
    schedules: [schedule],
    layouts: ['B[N,K]'],
    repeats: 3,
    dispatches: 2,
  });
  const row = report.rows[0];
  return [
    `(b) matmul ${report.M}×${report.K} · (${report.N}×${report.K})ᵀ, schedule ${schedule.rows}×${schedule.cols4}`,
    '| implementation | GFLOP/s (median) | GFLOP/s (best) |',
    '|---|---|---|',
    `| WGSL on ${report.adapter.split(',')[0]} | ${row.rates.median.toFixed(1)} | ${row.rates.best.toFixed(1)} |`,
    `| numpy sgemm | ${report.numpyGflops === undefined ? 'unavailable' : report.numpyGflops.toFixed(1)} | |`,
  ];
}
