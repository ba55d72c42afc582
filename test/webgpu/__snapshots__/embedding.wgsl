// embedding

struct Params {
  rows: u32,
  H: u32,
}

@group(0) @binding(0) var<storage, read> inputIds: array<u32>;
@group(0) @binding(1) var<storage, read> positionIds: array<u32>;
@group(0) @binding(2) var<storage, read> tokenTypeIds: array<u32>;
@group(0) @binding(3) var<storage, read> words: array<vec4f>;
@group(0) @binding(4) var<storage, read> positions: array<vec4f>;
@group(0) @binding(5) var<storage, read> tokenTypes: array<vec4f>;
@group(0) @binding(6) var<storage, read_write> out: array<vec4f>;
@group(0) @binding(7) var<uniform> p: Params;

fn loadWord(start: u32, at: u32) -> vec4f {
  return words[(start + at) / 4u];
}

fn loadPosition(start: u32, at: u32) -> vec4f {
  return positions[(start + at) / 4u];
}

fn loadTokenType(start: u32, at: u32) -> vec4f {
  return tokenTypes[(start + at) / 4u];
}

fn storeOut(start: u32, at: u32, value: vec4f) {
  if (at < p.H) {
    out[(start + at) / 4u] = value;
  }
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let index = gid.x + gid.y * groups.x * 64u;
  let chunks = (p.H + 3u) / 4u;
  if (index >= p.rows * chunks) { return; }
  let row = index / chunks;
  let at = (index % chunks) * 4u;
  storeOut(row * p.H, at, loadWord(inputIds[row] * p.H, at) + loadPosition(positionIds[row] * p.H, at) + loadTokenType(tokenTypeIds[row] * p.H, at));
}
