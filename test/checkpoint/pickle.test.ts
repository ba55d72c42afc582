import { afterEach, describe, expect, it, vi } from 'vitest';
import { PICKLE_GLOBALS, PickleEmitter, unpickle } from '../../src/checkpoint/pickle.ts';
import { checkpointError } from './helpers.ts';

const noPersistent = () => {
  throw new Error('no persistent ids expected');
};

/** PROTO 2 + GLOBAL 'module\nname\n' + ('echo pwned',) + REDUCE + STOP: the classic payload. */
function globalReducePayload(module: string, name: string): { bytes: Uint8Array; reduceAt: number } {
  const head = Buffer.from(`\x80\x02c${module}\n${name}\n`, 'latin1');
  const arg = Buffer.from('echo pwned');
  const argOp = Buffer.concat([Buffer.from([0x58, arg.length, 0, 0, 0]), arg, Buffer.from([0x85])]);
  const bytes = Buffer.concat([head, argOp, Buffer.from('R.', 'latin1')]);
  return { bytes, reduceAt: head.length + argOp.length };
}

describe('pickle VM', () => {
  afterEach(() => vi.restoreAllMocks());

  it.each([
    ['os', 'system'],
    ['builtins', 'eval'],
    ['posix', 'system'],
    ['subprocess', 'Popen'],
    ['torch', 'load'],
  ])('refuses GLOBAL %s.%s before REDUCE, calling nothing', (module, name) => {
    const spies = Object.values(PICKLE_GLOBALS)
      .filter((g) => g.call !== undefined)
      .map((g) => vi.spyOn(g, 'call'));
    const { bytes, reduceAt } = globalReducePayload(module, name);
    const err = checkpointError(() => unpickle('evil.pkl', bytes, noPersistent));
    expect(err.message).toContain(`pickle references non-whitelisted global '${module}.${name}'`);
    expect(err.file).toBe('evil.pkl');
    // The error is raised at the GLOBAL opcode (byte 2), well before the REDUCE.
    expect(err.message).toMatch(/at byte 2:/);
    expect(reduceAt).toBeGreaterThan(2);
    for (const spy of spies) expect(spy).not.toHaveBeenCalled();
  });

  it('refuses STACK_GLOBAL names too', () => {
    const s = (text: string) => Buffer.concat([Buffer.from([0x8c, text.length]), Buffer.from(text)]);
    const bytes = Buffer.concat([Buffer.from([0x80, 4]), s('os'), s('system'), Buffer.from([0x93, 0x2e])]);
    expect(checkpointError(() => unpickle('evil.pkl', bytes, noPersistent)).message).toContain("'os.system'");
  });

  it('refuses REDUCE on a whitelisted non-callable (storage class)', () => {
    const bytes = Buffer.from('\x80\x02ctorch\nFloatStorage\n)R.', 'latin1');
    expect(checkpointError(() => unpickle('x.pkl', bytes, noPersistent)).message).toMatch(
      /not a whitelisted callable/,
    );
  });

  it('decodes containers, ints, floats, memo', () => {
    const p = new PickleEmitter();
    p.op(0x80).op(2).op(0x7d).memoize();
    p.op(0x28);
    p.string('a');
    p.intTuple([1, 300, 70000, 2 ** 31]);
    const b = p.string('b');
    p.get(b);
    p.op(0x75).op(0x2e);
    const root = unpickle('ok.pkl', p.bytes(), noPersistent) as Map<unknown, unknown>;
    expect(root.get('b')).toBe('b');
    expect((root.get('a') as { items: unknown[] }).items).toEqual([1, 300, 70000, 2 ** 31]);
  });

  it.each([
    ['truncated string', Buffer.from([0x80, 2, 0x58, 0xff, 0xff, 0xff, 0x7f, 0x41])],
    ['no STOP', Buffer.from([0x80, 2, 0x7d])],
    ['undefined memo', Buffer.from([0x80, 2, 0x68, 5, 0x2e])],
    ['stack underflow', Buffer.from([0x80, 2, 0x73, 0x2e])],
    ['unknown opcode', Buffer.from([0x80, 2, 0xff])],
    ['huge LONG1', Buffer.from([0x80, 2, 0x8a, 0xff, ...new Array(255).fill(1), 0x2e])],
    ['SETITEM on a list', Buffer.from([0x80, 2, 0x5d, 0x4b, 1, 0x4b, 2, 0x73, 0x2e])],
  ])('rejects %s with a CheckpointError', (_, bytes) => {
    expect(checkpointError(() => unpickle('bad.pkl', bytes, noPersistent)).file).toBe('bad.pkl');
  });

  it('caps stack depth so deep nesting cannot exhaust memory', () => {
    const bytes = Buffer.concat([Buffer.from([0x80, 2]), Buffer.alloc(200_000, 0x28), Buffer.from([0x2e])]);
    expect(checkpointError(() => unpickle('deep.pkl', bytes, noPersistent)).message).toMatch(
      /stack depth cap/,
    );
  });
});
