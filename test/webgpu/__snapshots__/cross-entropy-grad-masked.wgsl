// cross_entropy_grad_dloss_masked

struct Params {
  rows: u32,
  classes: u32,
  scale: f32,
}

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read> labels: array<i32>;
@group(0) @binding(2) var<storage, read> dloss: array<f32>;
@group(0) @binding(3) var<storage, read> mask: array<i32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<uniform> p: Params;

fn counted(r: u32) -> bool {
  return labels[r] != -100 && mask[r] == 1;
}

fn rowMax(start: u32) -> f32 {
  var m = logits[start];
  for (var c = 1u; c < p.classes; c++) {
    m = max(m, logits[start + c]);
  }
  return m;
}

fn rowSumExp(start: u32, m: f32) -> f32 {
  var s = 0.0;
  for (var c = 0u; c < p.classes; c++) {
    s += exp(logits[start + c] - m);
  }
  return s;
}

fn countRows() -> f32 {
  var n = 0u;
  for (var r = 0u; r < p.rows; r++) {
    if (counted(r)) { n++; }
  }
  return f32(n);
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let index = gid.x + gid.y * groups.x * 64u;
  if (index >= p.rows) { return; }
  let start = index * p.classes;
  if (!counted(index)) {
    for (var c = 0u; c < p.classes; c++) {
      out[start + c] = 0.0;
    }
    return;
  }
  let m = rowMax(start);
  let s = rowSumExp(start, m);
  let scale = dloss[0] * p.scale / countRows();
  let label = u32(labels[index]);
  for (var c = 0u; c < p.classes; c++) {
    out[start + c] = (exp(logits[start + c] - m) / s - select(0.0, 1.0, c == label)) * scale;
  }
}
