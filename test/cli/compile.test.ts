// `adaptc compile` as a user runs it: a folder the runtime loads without the compiler.
import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/bundled/paths.ts';
import { compileFile } from '../../src/compiler.ts';
import { interpret } from '../../src/runtime/reference/interpret.ts';
import { deserializeModel, type ModelManifest } from '../../src/runtime/webgpu/bundle.ts';
import { randomInputs } from '../../src/testing/model.ts';
import { adaptc, adaptFile, scratch } from './helpers.ts';

const { dir, cleanup } = scratch();
afterAll(cleanup);

describe('adaptc compile', () => {
  it('writes model.json, weights.bin, the plan and the WGSL; the folder computes what the file does', async () => {
    const source = join(PACKAGE_ROOT, 'examples/parallel.adapt');
    const out = join(dir, 'parallel');
    const r = await adaptc(dir, 'compile', source, '-o', out);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(fs.readdirSync(out).sort()).toEqual(['kernels', 'model.json', 'plan.txt', 'weights.bin']);
    expect(fs.readdirSync(join(out, 'kernels')).every((f) => f.endsWith('.wgsl'))).toBe(true);
    const manifest: ModelManifest = JSON.parse(fs.readFileSync(join(out, 'model.json'), 'utf8'));
    const bytes = fs.readFileSync(join(out, 'weights.bin'));
    const loaded = deserializeModel(
      manifest,
      bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
    );
    const reference = compileFile(source);
    const inputs = randomInputs(2, 6, 400, 1);
    const want = interpret(reference.graph, (k) => reference.weights.get(k), inputs);
    const got = interpret(loaded.graph, (k) => loaded.weights.get(k), inputs);
    for (const [name, t] of want) {
      const g = got.get(name)!;
      t.data.forEach((v, i) => {
        expect(Math.abs(g.data[i] - v)).toBeLessThan(1e-5 * (1 + Math.abs(v)));
      });
    }
  });

  it('reports bad syntax with exit 1 and writes nothing', async () => {
    const file = adaptFile(dir, 'broken.adapt', 'setup Stack(\n');
    const out = join(dir, 'broken-out');
    const r = await adaptc(dir, 'compile', file, '-o', out);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/broken\.adapt:\d+:\d+: error/);
    expect(fs.existsSync(out)).toBe(false);
  });
});
