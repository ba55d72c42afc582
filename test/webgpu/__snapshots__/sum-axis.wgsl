// sum_axis

struct Params {
  outer: u32,
  len: u32,
  inner: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let index = gid.x + gid.y * groups.x * 64u;
  if (index >= p.outer * p.inner) { return; }
  let start = (index / p.inner) * p.len * p.inner + index % p.inner;
  var total = 0.0;
  for (var l = 0u; l < p.len; l++) {
    total += x[start + l * p.inner];
  }
  y[index] = total;
}
