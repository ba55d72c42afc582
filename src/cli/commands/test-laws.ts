// `adaptc test-laws FILE.adapt`: every applicable composition law on the file's own model and adapters,
// over generated inputs; a table of held / broken / not applicable, and each broken law's shrunk
// counterexample written as `<law>.adapt` (+ its modules) and `<law>.inputs.json`.
import * as fs from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { compileFile } from '../../compiler.ts';
import type { LawResult, RunOptions } from '../../laws/check.ts';
import type { Subject } from '../../laws/law.ts';
import { inputsJson, subjectFiles, writeSubject } from '../../laws/source.ts';
import { type Command, EXIT_OK, EXIT_USER_ERROR } from '../command.ts';
import { displayPath } from '../display.ts';
import { reportUserError } from '../errors.ts';

const USAGE = `usage: adaptc test-laws FILE.adapt [--runs N] [--seed S] [--out DIR] [--webgpu]

Checks every composition law that applies to the file's setup (SPEC.md, "Laws") on its real model,
adapters, fusions and heads, with generated inputs (random ids and padding). Exit status 0 when every
law holds, 1 when one breaks.
  --runs N   generated inputs per law (default 20)
  --seed S   fast-check seed (default: from the clock; printed, so a run can be repeated)
  --out DIR  where broken laws' counterexamples go (default laws-counterexamples): <law>.adapt with
             its modules saved in AdapterHub format beside it, and <law>.inputs.json for adaptc run
  --webgpu   also check webgpu-matches-reference on a WebGPU device (Dawn; llvmpipe without a GPU)`;

const STATUS: Record<LawResult['status'], string> = {
  held: 'held',
  broken: 'BROKEN',
  'not-applicable': 'not applicable',
};

/** The table: one line per law, columns aligned. */
function lawTable(results: readonly LawResult[]): string {
  const rows = results.map((r) => [r.law.name, STATUS[r.status], r.law.statement]);
  const width = (col: number) => Math.max(...rows.map((row) => row[col].length), col === 0 ? 3 : 6);
  const line = (row: readonly string[]) =>
    `${row[0].padEnd(width(0))}  ${row[1].padEnd(width(1))}  ${row[2]}`.trimEnd();
  return [line(['law', 'result', 'statement']), ...rows.map(line)].join('\n');
}

/** Writes a broken law's counterexample; returns the lines that report it. */
function reportBroken(result: LawResult & { status: 'broken' }, out: string): string[] {
  const { counterexample, law } = result;
  fs.mkdirSync(out, { recursive: true });
  const files = subjectFiles(out, law.name);
  writeSubject(counterexample.subject, files);
  const inputs = join(out, `${law.name}.inputs.json`);
  fs.writeFileSync(inputs, `${JSON.stringify(inputsJson(counterexample.inputs))}\n`);
  return [
    `${law.name} is broken: ${law.statement}`,
    ...(law.exceptions ? [`  (does not apply where: ${law.exceptions})`] : []),
    `  ${counterexample.message}`,
    `  counterexample: ${displayPath(files.adapt)} with ${displayPath(inputs)}`,
  ];
}

/** The WebGPU law on a device acquired for this run. */
async function checkOnWebGpu(subject: Subject, options: RunOptions): Promise<LawResult> {
  const { acquireNodeDevice } = await import('../../runtime/webgpu/device-node.ts');
  const { checkAsyncLaw, webgpuMatchesReference } = await import('../../laws/webgpu.ts');
  const acquired = await acquireNodeDevice();
  try {
    return await checkAsyncLaw(webgpuMatchesReference(acquired), subject, options);
  } finally {
    acquired.release();
  }
}

export const testLawsCommand: Command = {
  name: 'test-laws',
  summary: 'check the composition laws on a file’s model and adapters with generated inputs',
  usage: USAGE,
  async run(args) {
    let parsed: ReturnType<typeof parseOptions>;
    try {
      parsed = parseOptions(args);
    } catch (e) {
      process.stderr.write(`adaptc test-laws: ${(e as Error).message}\n${USAGE}\n`);
      return EXIT_USER_ERROR;
    }
    const { file, runs, seed, out } = parsed;
    try {
      const { program, model, weights } = compileFile(file);
      const subject = { program, model, weights };
      process.stdout.write(`${displayPath(file)}: ${runs} generated inputs per law, seed ${seed}\n\n`);
      // Loaded here: the laws need fast-check (a development dependency); other commands must not.
      const { checkLaw, LAWS } = await import('../../laws/check.ts');
      const results: LawResult[] = LAWS.map((law) => checkLaw(law, subject, { runs, seed }));
      if (parsed.webgpu) results.push(await checkOnWebGpu(subject, { runs, seed }));
      process.stdout.write(`${lawTable(results)}\n`);
      const broken = results.filter((r): r is LawResult & { status: 'broken' } => r.status === 'broken');
      for (const r of broken) process.stdout.write(`\n${reportBroken(r, out).join('\n')}\n`);
      if (broken.length > 0)
        process.stdout.write(`\nreproduce: adaptc test-laws ${file} --runs ${runs} --seed ${seed}\n`);
      return broken.length === 0 ? EXIT_OK : EXIT_USER_ERROR;
    } catch (e) {
      return reportUserError('test-laws', e);
    }
  },
};

function parseOptions(args: readonly string[]) {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      runs: { type: 'string', default: '20' },
      seed: { type: 'string' },
      out: { type: 'string', default: 'laws-counterexamples' },
      webgpu: { type: 'boolean', default: false },
    },
  });
  if (positionals.length !== 1) throw new Error('expected one .adapt file');
  const runs = Number(values.runs);
  const seed = values.seed === undefined ? Date.now() % 2 ** 31 : Number(values.seed);
  if (!Number.isInteger(runs) || runs < 1)
    throw new Error(`--runs must be a positive integer, not ${values.runs}`);
  if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer, not ${values.seed}`);
  return { file: positionals[0], runs, seed, out: values.out!, webgpu: values.webgpu! };
}
