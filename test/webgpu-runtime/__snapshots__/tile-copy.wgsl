// elementwise_r3_copy

struct Params {
  n: u32,
  d0: u32,
  d1: u32,
  d2: u32,
  l0o: u32,
  l0s0: u32,
  l0s1: u32,
  l0s2: u32,
  l0w0: u32,
  l0w1: u32,
  l0w2: u32,
}

@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let index = gid.x + gid.y * groups.x * 64u;
  if (index >= p.n) { return; }
  var rest = index;
  let c2 = rest % p.d2;
  rest = rest / p.d2;
  let c1 = rest % p.d1;
  rest = rest / p.d1;
  let c0 = rest;
  let e0 = in0[p.l0o + (c0 % p.l0w0) * p.l0s0 + (c1 % p.l0w1) * p.l0s1 + (c2 % p.l0w2) * p.l0s2];
  out[index] = e0;
}
