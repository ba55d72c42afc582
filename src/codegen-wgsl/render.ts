// A tiny WGSL renderer: code is a tree of lines where a nested array is one indentation level deeper. Emitters
// build kernels from these pieces instead of pasting format strings, so every kernel shares one module layout:
// params struct, bindings, constants, helper functions, then a 1-D `main` that knows its linear `index`.

import type { Access, Dims, KernelBinding, UniformField, WgslKernel } from './kernel.ts';

export type Code = readonly (string | Code)[];

const INDENT = '  ';

export function renderCode(code: Code, depth = 0): string[] {
  return code.flatMap((line) =>
    typeof line === 'string' ? [INDENT.repeat(depth) + line] : renderCode(line, depth + 1),
  );
}

/** `head { body }`, as lines. */
export function block(head: string, ...body: Code): Code {
  return [`${head} {`, body, '}'];
}

/** A counted loop `for (var v = from; v < bound; v += step)`. */
export function loop(v: string, bound: string, body: Code, from = '0u', step = '1u'): Code {
  const next = step === '1u' ? `${v}++` : `${v} += ${step}`;
  return block(`for (var ${v} = ${from}; ${v} < ${bound}; ${next})`, ...body);
}

/** `count` copies of a loop body for i = 0..count-1; llvmpipe does not unroll loops for us. */
export function unroll(count: number, body: (i: number) => Code): Code {
  return Array.from({ length: count }, (_, i) => body(i)).flat();
}

/** `base + n` as u32, folding n = 0. */
export function plus(base: string, n: number): string {
  return n === 0 ? base : `${base} + ${u32(n)}`;
}

/** `base + row · stride`, folding row = 0. */
export function rowOffset(base: string, row: number, stride: string): string {
  return row === 0 ? base : `${base} + ${u32(row)} * ${stride}`;
}

export function fn(signature: string, ...body: Code): string {
  return renderCode(block(`fn ${signature}`, ...body)).join('\n');
}

/** A u32 literal. */
export function u32(n: number): string {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`not a u32: ${n}`);
  return `${n}u`;
}

/** The shortest f32 literal that rounds to the same f32 (always has a decimal point or exponent). */
export function f32(x: number): string {
  if (!Number.isFinite(x)) throw new RangeError(`not a finite f32: ${x}`);
  const target = Math.fround(x);
  let text = String(target);
  for (let digits = 1; digits <= 9; digits++) {
    const candidate = target.toPrecision(digits);
    if (Math.fround(Number(candidate)) === target) {
      text = String(Number(candidate));
      break;
    }
  }
  return /[.e]/.test(text) ? text : `${text}.0`;
}

export interface StorageDecl {
  readonly name: string;
  readonly access: Access;
  /** Element type of the runtime-sized array, e.g. `f32`, `vec4f`, `u32`, `vec4u`. */
  readonly element: string;
}

export interface KernelParts {
  readonly name: string;
  readonly storage: readonly StorageDecl[];
  readonly uniforms: readonly UniformField[];
  readonly constants?: readonly (readonly [string, string])[];
  /** Module-scope declarations such as `var<workgroup>` arrays. */
  readonly declarations?: readonly string[];
  /** Rendered helper functions, emitted in order before `main`. */
  readonly functions?: readonly string[];
  readonly workgroupSize: number;
  /** Body of `main`; `index` (u32) is the linear invocation index. */
  readonly body: Code;
}

/** The uniform struct is always bound as `p`, after the storage bindings. */
export const PARAMS_VAR = 'p';

export function renderKernel<D extends Dims>(
  parts: KernelParts,
  dispatch: (dims: D) => [number, number, number],
): WgslKernel<D> {
  const bindings = kernelBindings(parts);
  const sections = [
    `// ${parts.name}`,
    parts.uniforms.length > 0 ? renderParamsStruct(parts.uniforms) : '',
    bindings.map(renderBinding).join('\n'),
    (parts.constants ?? []).map(([name, value]) => `const ${name} = ${value};`).join('\n'),
    (parts.declarations ?? []).join('\n'),
    ...(parts.functions ?? []),
    renderEntryPoint(parts.workgroupSize, parts.body),
  ];
  return {
    name: parts.name,
    wgsl: `${sections.filter((s) => s !== '').join('\n\n')}\n`,
    bindings,
    uniforms: parts.uniforms,
    workgroupSize: parts.workgroupSize,
    dispatch,
  };
}

function kernelBindings(parts: KernelParts): KernelBinding[] {
  const storage: KernelBinding[] = parts.storage.map((s, binding) => ({
    name: s.name,
    binding,
    kind: 'storage',
    access: s.access,
    wgslType: `array<${s.element}>`,
  }));
  if (parts.uniforms.length === 0) return storage;
  return [
    ...storage,
    { name: 'params', binding: storage.length, kind: 'uniform', access: 'read', wgslType: 'Params' },
  ];
}

function renderParamsStruct(uniforms: readonly UniformField[]): string {
  return renderCode(block('struct Params', ...uniforms.map((u) => `${u.name}: ${u.type},`))).join('\n');
}

function renderBinding(b: KernelBinding): string {
  const space = b.kind === 'uniform' ? 'uniform' : `storage, ${b.access}`;
  const name = b.kind === 'uniform' ? PARAMS_VAR : b.name;
  return `@group(0) @binding(${b.binding}) var<${space}> ${name}: ${b.wgslType};`;
}

/** 1-D entry point; dispatches wider than 65535 workgroups spill into y (see `dispatch1D`). */
function renderEntryPoint(workgroupSize: number, body: Code): string {
  return renderCode([
    `@compute @workgroup_size(${workgroupSize})`,
    ...block(
      'fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u)',
      `let index = gid.x + gid.y * groups.x * ${u32(workgroupSize)};`,
      ...body,
    ),
  ]).join('\n');
}
