// lowrank_segmented

struct Params {
  rows: u32,
  inDim: u32,
  outDim: u32,
  segments: u32,
}

@group(0) @binding(0) var<storage, read> x: array<vec4f>;
@group(0) @binding(1) var<storage, read> weights: array<vec4f>;
@group(0) @binding(2) var<storage, read> segments: array<vec4u>;
@group(0) @binding(3) var<storage, read> residual: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> out: array<vec4f>;
@group(0) @binding(5) var<uniform> p: Params;

const RANK4 = 2u;
const RANK = 8u;

fn relu4(x: vec4f) -> vec4f {
  return max(x, vec4f(0.0));
}

fn loadX(start: u32, at: u32) -> vec4f {
  return x[(start + at) / 4u];
}

fn loadDown(start: u32, at: u32) -> vec4f {
  return weights[(start + at) / 4u];
}

fn loadUp(start: u32, at: u32) -> vec4f {
  return weights[(start + at) / 4u];
}

fn loadUpBias(start: u32, at: u32) -> vec4f {
  return weights[(start + at) / 4u];
}

fn loadResidual(start: u32, at: u32) -> vec4f {
  return residual[(start + at) / 4u];
}

fn storeOut(start: u32, at: u32, value: vec4f) {
  if (at < p.outDim) {
    out[(start + at) / 4u] = value;
  }
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let index = gid.x + gid.y * groups.x * 64u;
  let row0 = index * 1u;
  if (row0 >= p.rows) { return; }
  let xStart0 = min(row0, p.rows - 1u) * p.inDim;
  let outStart0 = min(row0, p.rows - 1u) * p.outDim;
  var w = 0u;
  var scale = 0.0;
  var found = false;
  for (var s = 0u; s < p.segments; s++) {
    let segment = segments[s];
    if (row0 >= segment.x && row0 < segment.y) {
      w = segment.z;
      scale = bitcast<f32>(segment.w);
      found = true;
      break;
    }
  }
  if (!found) {
    for (var n = 0u; n < p.outDim; n += 4u) {
      storeOut(outStart0, n, loadResidual(outStart0, n));
    }
    return;
  }
  let downBias = w + RANK * p.inDim;
  let up = downBias + RANK;
  let upBias = up + p.outDim * RANK;
  var hidden: array<array<vec4f, RANK4>, 1u>;
  for (var k = 0u; k < p.inDim; k += 4u) {
    let xv0 = loadX(xStart0, k);
    let down0 = mat4x4f(loadDown(w, k), loadDown(w + 1u * p.inDim, k), loadDown(w + 2u * p.inDim, k), loadDown(w + 3u * p.inDim, k));
    hidden[0][0] += xv0 * down0;
    let down1 = mat4x4f(loadDown(w + 4u * p.inDim, k), loadDown(w + 5u * p.inDim, k), loadDown(w + 6u * p.inDim, k), loadDown(w + 7u * p.inDim, k));
    hidden[0][1] += xv0 * down1;
  }
  hidden[0][0] = relu4(hidden[0][0] + loadUp(downBias, 0u));
  hidden[0][1] = relu4(hidden[0][1] + loadUp(downBias, 4u));
  for (var n = 0u; n < p.outDim; n += 4u) {
    var v0 = vec4f(0.0);
    let up0 = mat4x4f(loadUp(up + min(n, p.outDim - 1u) * RANK, 0u), loadUp(up + min(n + 1u, p.outDim - 1u) * RANK, 0u), loadUp(up + min(n + 2u, p.outDim - 1u) * RANK, 0u), loadUp(up + min(n + 3u, p.outDim - 1u) * RANK, 0u));
    v0 += hidden[0][0] * up0;
    let up1 = mat4x4f(loadUp(up + min(n, p.outDim - 1u) * RANK, 4u), loadUp(up + min(n + 1u, p.outDim - 1u) * RANK, 4u), loadUp(up + min(n + 2u, p.outDim - 1u) * RANK, 4u), loadUp(up + min(n + 3u, p.outDim - 1u) * RANK, 4u));
    v0 += hidden[0][1] * up1;
    let bias = loadUpBias(upBias, n);
    v0 += bias;
    storeOut(outStart0, n, loadResidual(outStart0, n) + scale * v0);
  }
}
