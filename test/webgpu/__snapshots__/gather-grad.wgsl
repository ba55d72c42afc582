// gather_grad

struct Params {
  positions: u32,
  H: u32,
}

@group(0) @binding(0) var<storage, read> ids: array<i32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let index = gid.x + gid.y * groups.x * 64u;
  if (index >= p.positions * p.H) { return; }
  let n = index / p.H;
  let h = index % p.H;
  let id = ids[n];
  for (var e = 0u; e < n; e++) {
    if (ids[e] == id) { return; }
  }
  var total = 0.0;
  for (var e = n; e < p.positions; e++) {
    if (ids[e] == id) {
      total += dy[e * p.H + h];
    }
  }
  out[u32(id) * p.H + h] = total;
}
