// attention_softmax_masked

struct Params {
  rows: u32,
  rowsPerBatch: u32,
  Tk: u32,
  prefix: u32,
}

@group(0) @binding(0) var<storage, read> scores: array<f32>;
@group(0) @binding(1) var<storage, read> mask: array<f32>;
@group(0) @binding(2) var<storage, read_write> probs: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

fn logit(start: u32, maskStart: u32, j: u32) -> f32 {
  let s = scores[start + j];
  if (j < p.prefix) { return s; }
  return s + mask[maskStart + j - p.prefix];
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let index = gid.x + gid.y * groups.x * 64u;
  if (index >= p.rows || p.Tk == 0u) { return; }
  let start = index * p.Tk;
  let maskStart = (index / p.rowsPerBatch) * (p.Tk - p.prefix);
  var highest = logit(start, maskStart, 0u);
  for (var j = 1u; j < p.Tk; j++) {
    highest = max(highest, logit(start, maskStart, j));
  }
  var total = 0.0;
  for (var j = 0u; j < p.Tk; j++) {
    let e = exp(logit(start, maskStart, j) - highest);
    probs[start + j] = e;
    total += e;
  }
  let inverse = 1.0 / total;
  for (var j = 0u; j < p.Tk; j++) {
    probs[start + j] *= inverse;
  }
}
