// matmul_segmented_bt

struct Params {
  M: u32,
  N: u32,
  K: u32,
  segments: u32,
}

@group(0) @binding(0) var<storage, read> a: array<vec4f>;
@group(0) @binding(1) var<storage, read> b: array<vec4f>;
@group(0) @binding(2) var<storage, read> segments: array<vec4u>;
@group(0) @binding(3) var<storage, read> bias: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> c: array<vec4f>;
@group(0) @binding(5) var<uniform> p: Params;

const ROWS = 8u;
const COLS4 = 4u;

fn loadA(start: u32, at: u32) -> vec4f {
  return a[(start + at) / 4u];
}

fn loadB(start: u32, at: u32) -> vec4f {
  return b[(start + at) / 4u];
}

fn loadBias(start: u32, at: u32) -> vec4f {
  return bias[(start + at) / 4u];
}

fn epilogue(biasBase: u32, rowStart: u32, col: u32, acc: vec4f) -> vec4f {
  var v = acc;
  v += loadBias(biasBase, col);
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
  if (index >= tiles * p.segments) { return; }
  let segment = segments[index / tiles];
  let tile = index % tiles;
  let rows = segment.y;
  if ((tile / tilesN) * ROWS >= rows) { return; }
  let aBase = segment.x * p.K;
  let bBase = segment.z;
  let cBase = segment.x * p.N;
  let biasBase = segment.w;
  let row0 = (tile / tilesN) * ROWS;
  let col0 = (tile % tilesN) * 4u * COLS4;
  let aRow0 = aBase + min(row0, rows - 1u) * p.K;
  let aRow1 = aBase + min(row0 + 1u, rows - 1u) * p.K;
  let aRow2 = aBase + min(row0 + 2u, rows - 1u) * p.K;
  let aRow3 = aBase + min(row0 + 3u, rows - 1u) * p.K;
  let aRow4 = aBase + min(row0 + 4u, rows - 1u) * p.K;
  let aRow5 = aBase + min(row0 + 5u, rows - 1u) * p.K;
  let aRow6 = aBase + min(row0 + 6u, rows - 1u) * p.K;
  let aRow7 = aBase + min(row0 + 7u, rows - 1u) * p.K;
  let bRow0_0 = bBase + min(col0, p.N - 1u) * p.K;
  let bRow0_1 = bBase + min(col0 + 1u, p.N - 1u) * p.K;
  let bRow0_2 = bBase + min(col0 + 2u, p.N - 1u) * p.K;
  let bRow0_3 = bBase + min(col0 + 3u, p.N - 1u) * p.K;
  let bRow1_0 = bBase + min(col0 + 4u, p.N - 1u) * p.K;
  let bRow1_1 = bBase + min(col0 + 5u, p.N - 1u) * p.K;
  let bRow1_2 = bBase + min(col0 + 6u, p.N - 1u) * p.K;
  let bRow1_3 = bBase + min(col0 + 7u, p.N - 1u) * p.K;
  let bRow2_0 = bBase + min(col0 + 8u, p.N - 1u) * p.K;
  let bRow2_1 = bBase + min(col0 + 9u, p.N - 1u) * p.K;
  let bRow2_2 = bBase + min(col0 + 10u, p.N - 1u) * p.K;
  let bRow2_3 = bBase + min(col0 + 11u, p.N - 1u) * p.K;
  let bRow3_0 = bBase + min(col0 + 12u, p.N - 1u) * p.K;
  let bRow3_1 = bBase + min(col0 + 13u, p.N - 1u) * p.K;
  let bRow3_2 = bBase + min(col0 + 14u, p.N - 1u) * p.K;
  let bRow3_3 = bBase + min(col0 + 15u, p.N - 1u) * p.K;
  var acc: array<array<vec4f, COLS4>, ROWS>;
  for (var k = 0u; k < p.K; k += 4u) {
    var av: array<vec4f, ROWS>;
    av[0] = loadA(aRow0, k);
    av[1] = loadA(aRow1, k);
    av[2] = loadA(aRow2, k);
    av[3] = loadA(aRow3, k);
    av[4] = loadA(aRow4, k);
    av[5] = loadA(aRow5, k);
    av[6] = loadA(aRow6, k);
    av[7] = loadA(aRow7, k);
    let bm0 = mat4x4f(loadB(bRow0_0, k), loadB(bRow0_1, k), loadB(bRow0_2, k), loadB(bRow0_3, k));
    acc[0][0] += av[0] * bm0;
    acc[1][0] += av[1] * bm0;
    acc[2][0] += av[2] * bm0;
    acc[3][0] += av[3] * bm0;
    acc[4][0] += av[4] * bm0;
    acc[5][0] += av[5] * bm0;
    acc[6][0] += av[6] * bm0;
    acc[7][0] += av[7] * bm0;
    let bm1 = mat4x4f(loadB(bRow1_0, k), loadB(bRow1_1, k), loadB(bRow1_2, k), loadB(bRow1_3, k));
    acc[0][1] += av[0] * bm1;
    acc[1][1] += av[1] * bm1;
    acc[2][1] += av[2] * bm1;
    acc[3][1] += av[3] * bm1;
    acc[4][1] += av[4] * bm1;
    acc[5][1] += av[5] * bm1;
    acc[6][1] += av[6] * bm1;
    acc[7][1] += av[7] * bm1;
    let bm2 = mat4x4f(loadB(bRow2_0, k), loadB(bRow2_1, k), loadB(bRow2_2, k), loadB(bRow2_3, k));
    acc[0][2] += av[0] * bm2;
    acc[1][2] += av[1] * bm2;
    acc[2][2] += av[2] * bm2;
    acc[3][2] += av[3] * bm2;
    acc[4][2] += av[4] * bm2;
    acc[5][2] += av[5] * bm2;
    acc[6][2] += av[6] * bm2;
    acc[7][2] += av[7] * bm2;
    let bm3 = mat4x4f(loadB(bRow3_0, k), loadB(bRow3_1, k), loadB(bRow3_2, k), loadB(bRow3_3, k));
    acc[0][3] += av[0] * bm3;
    acc[1][3] += av[1] * bm3;
    acc[2][3] += av[2] * bm3;
    acc[3][3] += av[3] * bm3;
    acc[4][3] += av[4] * bm3;
    acc[5][3] += av[5] * bm3;
    acc[6][3] += av[6] * bm3;
    acc[7][3] += av[7] * bm3;
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
