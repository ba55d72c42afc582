// layernorm_grad_input

struct Params {
  rows: u32,
  H: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> gamma: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

const EPS = 1e-12;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let index = gid.x + gid.y * groups.x * 64u;
  if (index >= p.rows) { return; }
  let start = index * p.H;
  var sum = 0.0;
  for (var h = 0u; h < p.H; h++) {
    sum += x[start + h];
  }
  let mean = sum / f32(p.H);
  var squares = 0.0;
  for (var h = 0u; h < p.H; h++) {
    let d = x[start + h] - mean;
    squares += d * d;
  }
  let invStd = inverseSqrt(squares / f32(p.H) + EPS);
  var sumG = 0.0;
  var sumGX = 0.0;
  for (var h = 0u; h < p.H; h++) {
    let g = dy[start + h] * gamma[h];
    sumG += g;
    sumGX += g * (x[start + h] - mean) * invStd;
  }
  let meanG = sumG / f32(p.H);
  let meanGX = sumGX / f32(p.H);
  for (var h = 0u; h < p.H; h++) {
    out[start + h] = invStd * (dy[start + h] * gamma[h] - meanG - (x[start + h] - mean) * invStd * meanGX);
  }
}
