// bert_intermediate

struct Params {
  M: u32,
  N: u32,
  K: u32,
}

@group(0) @binding(0) var<storage, read> a: array<vec4f>;
@group(0) @binding(1) var<storage, read> b: array<vec4f>;
@group(0) @binding(2) var<storage, read> bias: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> c: array<vec4f>;
@group(0) @binding(4) var<uniform> p: Params;

const ROWS = 4u;
const COLS4 = 2u;

fn loadA(start: u32, at: u32) -> vec4f {
  return a[(start + at) / 4u];
}

fn loadB(start: u32, at: u32) -> vec4f {
  return b[(start + at) / 4u];
}

fn erf4(x: vec4f) -> vec4f {
  let z = abs(x);
  let t = 1.0 / (1.0 + 0.3275911 * z);
  let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign(x) * (1.0 - poly * exp(-z * z));
}

fn gelu4(x: vec4f) -> vec4f {
  return 0.5 * x * (1.0 + erf4(x * 0.7071067811865476));
}

fn loadBias(start: u32, at: u32) -> vec4f {
  return bias[(start + at) / 4u];
}

fn epilogue(biasBase: u32, rowStart: u32, col: u32, acc: vec4f) -> vec4f {
  var v = acc;
  v += loadBias(biasBase, col);
  v = gelu4(v);
  return v;
}

fn storeC(start: u32, at: u32, value: vec4f) {
  if (at < p.N) {
    c[(start + at) / 4u] = value;
  }
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let index = gid.x + gid.y * groups.x * 64u;
  let tilesN = (p.N + 4u * COLS4 - 1u) / (4u * COLS4);
  let tiles = tilesN * ((p.M + ROWS - 1u) / ROWS);
  if (index >= tiles) { return; }
  let tile = index;
  let rows = p.M;
  let aBase = 0u;
  let bBase = 0u;
  let cBase = 0u;
  let biasBase = 0u;
  let row0 = (tile / tilesN) * ROWS;
  let col0 = (tile % tilesN) * 4u * COLS4;
  let aRow0 = aBase + min(row0, rows - 1u) * p.K;
  let aRow1 = aBase + min(row0 + 1u, rows - 1u) * p.K;
  let aRow2 = aBase + min(row0 + 2u, rows - 1u) * p.K;
  let aRow3 = aBase + min(row0 + 3u, rows - 1u) * p.K;
  let bRow0_0 = bBase + min(col0, p.N - 1u) * p.K;
  let bRow0_1 = bBase + min(col0 + 1u, p.N - 1u) * p.K;
  let bRow0_2 = bBase + min(col0 + 2u, p.N - 1u) * p.K;
  let bRow0_3 = bBase + min(col0 + 3u, p.N - 1u) * p.K;
  let bRow1_0 = bBase + min(col0 + 4u, p.N - 1u) * p.K;
  let bRow1_1 = bBase + min(col0 + 5u, p.N - 1u) * p.K;
  let bRow1_2 = bBase + min(col0 + 6u, p.N - 1u) * p.K;
  let bRow1_3 = bBase + min(col0 + 7u, p.N - 1u) * p.K;
  var acc: array<array<vec4f, COLS4>, ROWS>;
  for (var k = 0u; k < p.K; k += 4u) {
    var av: array<vec4f, ROWS>;
    av[0] = loadA(aRow0, k);
    av[1] = loadA(aRow1, k);
    av[2] = loadA(aRow2, k);
    av[3] = loadA(aRow3, k);
    let bm0 = mat4x4f(loadB(bRow0_0, k), loadB(bRow0_1, k), loadB(bRow0_2, k), loadB(bRow0_3, k));
    acc[0][0] += av[0] * bm0;
    acc[1][0] += av[1] * bm0;
    acc[2][0] += av[2] * bm0;
    acc[3][0] += av[3] * bm0;
    let bm1 = mat4x4f(loadB(bRow1_0, k), loadB(bRow1_1, k), loadB(bRow1_2, k), loadB(bRow1_3, k));
    acc[0][1] += av[0] * bm1;
    acc[1][1] += av[1] * bm1;
    acc[2][1] += av[2] * bm1;
    acc[3][1] += av[3] * bm1;
  }
  for (var r = 0u; r < ROWS; r++) {
    let row = row0 + r;
    if (row >= rows) { break; }
    let rowStart = cBase + row * p.N;
    for (var c = 0u; c < COLS4; c++) {
      let col = col0 + 4u * c;
      storeC(rowStart, col, epilogue(biasBase, rowStart, min(col, p.N - 4u), acc[r][c]));
    }
  }
}
