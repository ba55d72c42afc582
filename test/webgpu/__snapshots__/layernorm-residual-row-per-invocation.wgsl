// layernorm_residual

struct Params {
  rows: u32,
  H: u32,
}

@group(0) @binding(0) var<storage, read> x: array<vec4f>;
@group(0) @binding(1) var<storage, read> residual: array<vec4f>;
@group(0) @binding(2) var<storage, read> gamma: array<vec4f>;
@group(0) @binding(3) var<storage, read> beta: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> y: array<vec4f>;
@group(0) @binding(5) var<uniform> p: Params;

const EPS = 1e-12;

fn loadX(start: u32, at: u32) -> vec4f {
  return x[(start + at) / 4u];
}

fn loadResidual(start: u32, at: u32) -> vec4f {
  return residual[(start + at) / 4u];
}

fn loadGamma(start: u32, at: u32) -> vec4f {
  return gamma[(start + at) / 4u];
}

fn loadBeta(start: u32, at: u32) -> vec4f {
  return beta[(start + at) / 4u];
}

fn storeY(start: u32, at: u32, value: vec4f) {
  if (at < p.H) {
    y[(start + at) / 4u] = value;
  }
}

fn loadRow(start: u32, h: u32) -> vec4f {
  return loadX(start, h) + loadResidual(start, h);
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let index = gid.x + gid.y * groups.x * 64u;
  if (index >= p.rows) { return; }
  let start = index * p.H;
  var sum = vec4f(0.0);
  for (var h = 0u; h < p.H; h += 4u) {
    sum += loadRow(start, h);
  }
  let mean = dot(sum, vec4f(1.0)) / f32(p.H);
  var squares = vec4f(0.0);
  for (var h = 0u; h < p.H; h += 4u) {
    let d = loadRow(start, h) - mean;
    squares += d * d;
  }
  let invStd = inverseSqrt(dot(squares, vec4f(1.0)) / f32(p.H) + EPS);
  for (var h = 0u; h < p.H; h += 4u) {
    storeY(start, h, (loadRow(start, h) - mean) * invStd * loadGamma(0u, h) + loadBeta(0u, h));
  }
}
