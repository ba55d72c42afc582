// elementwise_r3_add_add_gather_gather

struct Params {
  n: u32,
  d0: u32,
  d1: u32,
  d2: u32,
  l0o: u32,
  l0s0: u32,
  l0s1: u32,
  l0s2: u32,
  l1o: u32,
  l1s0: u32,
  l1s1: u32,
  l1s2: u32,
  l2o: u32,
  l2s0: u32,
  l2s1: u32,
  l2s2: u32,
}

@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read> in1: array<i32>;
@group(0) @binding(2) var<storage, read> in2: array<f32>;
@group(0) @binding(3) var<storage, read> in3: array<i32>;
@group(0) @binding(4) var<storage, read> in4: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;
@group(0) @binding(6) var<uniform> p: Params;

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
  let e0 = in1[p.l0o + c0 * p.l0s0 + c1 * p.l0s1 + c2 * p.l0s2];
  let e1 = in0[u32(e0) * 32u + c2];
  let e2 = in3[p.l1o + c0 * p.l1s0 + c1 * p.l1s1 + c2 * p.l1s2];
  let e3 = in2[u32(e2) * 32u + c2];
  let e4 = e1 + e3;
  let e5 = in4[p.l2o + c0 * p.l2s0 + c1 * p.l2s1 + c2 * p.l2s2];
  let e6 = e4 + e5;
  out[index] = e6;
}
