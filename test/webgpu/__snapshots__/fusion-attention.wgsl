// fusion_attention

struct Params {
  rows: u32,
  H: u32,
  temperature: f32,
}

@group(0) @binding(0) var<storage, read> q: array<vec4f>;
@group(0) @binding(1) var<storage, read> k: array<vec4f>;
@group(0) @binding(2) var<storage, read> v: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> ctx: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> probs: array<f32>;
@group(0) @binding(5) var<uniform> p: Params;

const ADAPTERS = 2u;

fn loadQ(start: u32, at: u32) -> vec4f {
  return q[(start + at) / 4u];
}

fn loadK(start: u32, at: u32) -> vec4f {
  return k[(start + at) / 4u];
}

fn loadV(start: u32, at: u32) -> vec4f {
  return v[(start + at) / 4u];
}

fn storeCtx(start: u32, at: u32, value: vec4f) {
  if (at < p.H) {
    ctx[(start + at) / 4u] = value;
  }
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let index = gid.x + gid.y * groups.x * 64u;
  if (index >= p.rows) { return; }
  let qStart = index * p.H;
  let kvStart = index * ADAPTERS * p.H;
  var scores: array<f32, ADAPTERS>;
  for (var h = 0u; h < p.H; h += 4u) {
    let qv = loadQ(qStart, h);
    scores[0] += dot(qv, loadK(kvStart, h));
    scores[1] += dot(qv, loadK(kvStart + 1u * p.H, h));
  }
  var highest = scores[0] / p.temperature;
  highest = max(highest, scores[0] / p.temperature);
  highest = max(highest, scores[1] / p.temperature);
  var total = 0.0;
  scores[0] = exp(scores[0] / p.temperature - highest);
  total += scores[0];
  scores[1] = exp(scores[1] / p.temperature - highest);
  total += scores[1];
  scores[0] /= total;
  probs[index * ADAPTERS] = scores[0];
  scores[1] /= total;
  probs[index * ADAPTERS + 1u] = scores[1];
  for (var h = 0u; h < p.H; h += 4u) {
    var c = vec4f(0.0);
    c += scores[0] * loadV(kvStart, h);
    c += scores[1] * loadV(kvStart + 1u * p.H, h);
    storeCtx(qStart, h, c);
  }
}
