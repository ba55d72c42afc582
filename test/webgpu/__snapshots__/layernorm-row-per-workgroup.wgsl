// layernorm

struct Params {
  rows: u32,
  H: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> gamma: array<f32>;
@group(0) @binding(2) var<storage, read> beta: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

const EPS = 0.00001;
const WG = 64u;

var<workgroup> partial: array<f32, WG>;

fn loadX(start: u32, at: u32) -> vec4f {
  var loaded = vec4f(0.0);
  for (var j = 0u; j < 4u; j++) {
    if (at + j < p.H) {
      loaded[j] = x[start + at + j];
    }
  }
  return loaded;
}

fn loadGamma(start: u32, at: u32) -> vec4f {
  var loaded = vec4f(0.0);
  for (var j = 0u; j < 4u; j++) {
    if (at + j < p.H) {
      loaded[j] = gamma[start + at + j];
    }
  }
  return loaded;
}

fn loadBeta(start: u32, at: u32) -> vec4f {
  var loaded = vec4f(0.0);
  for (var j = 0u; j < 4u; j++) {
    if (at + j < p.H) {
      loaded[j] = beta[start + at + j];
    }
  }
  return loaded;
}

fn storeY(start: u32, at: u32, value: vec4f) {
  for (var j = 0u; j < 4u; j++) {
    if (at + j < p.H) {
      y[start + at + j] = value[j];
    }
  }
}

fn loadRow(start: u32, h: u32) -> vec4f {
  return loadX(start, h);
}

fn lanes(x: u32, bound: u32) -> vec4<bool> {
  return vec4u(x) + vec4u(0u, 1u, 2u, 3u) < vec4u(bound);
}

fn syncWorkgroup() {
  workgroupBarrier();
  storageBarrier();
}

fn workgroupSum(lane: u32, value: f32) -> f32 {
  partial[lane] = value;
  syncWorkgroup();
  for (var stride = WG / 2u; stride > 0u; stride >>= 1u) {
    if (lane < stride) {
      partial[lane] += partial[lane + stride];
    }
    syncWorkgroup();
  }
  let total = partial[0];
  syncWorkgroup();
  return total;
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let index = gid.x + gid.y * groups.x * 64u;
  let row = index / WG;
  let lane = index % WG;
  let start = min(row, p.rows - 1u) * p.H;
  var sum = vec4f(0.0);
  for (var h = lane * 4u; h < p.H; h += 4u * WG) {
    sum += loadRow(start, h);
  }
  let mean = workgroupSum(lane, dot(sum, vec4f(1.0))) / f32(p.H);
  var squares = vec4f(0.0);
  for (var h = lane * 4u; h < p.H; h += 4u * WG) {
    let d = select(vec4f(0.0), loadRow(start, h) - mean, lanes(h, p.H));
    squares += d * d;
  }
  let invStd = inverseSqrt(workgroupSum(lane, dot(squares, vec4f(1.0))) / f32(p.H) + EPS);
  if (row < p.rows) {
    for (var h = lane * 4u; h < p.H; h += 4u * WG) {
      storeY(start, h, (loadRow(start, h) - mean) * invStd * loadGamma(0u, h) + loadBeta(0u, h));
    }
  }
}
