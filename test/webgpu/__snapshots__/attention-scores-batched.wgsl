// attention_scores

struct Params {
  M: u32,
  N: u32,
  K: u32,
  batch: u32,
  heads: u32,
  lda: u32,
  ldb: u32,
  ldc: u32,
  aBatchStride: u32,
  aHeadStride: u32,
  bBatchStride: u32,
  bHeadStride: u32,
  cBatchStride: u32,
  cHeadStride: u32,
}

@group(0) @binding(0) var<storage, read> a: array<vec4f>;
@group(0) @binding(1) var<storage, read> b: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

const ROWS = 2u;
const COLS4 = 1u;

fn loadA(start: u32, at: u32) -> vec4f {
  return a[(start + at) / 4u];
}

fn loadB(start: u32, at: u32) -> vec4f {
  return b[(start + at) / 4u];
}

fn epilogue(biasBase: u32, rowStart: u32, col: u32, acc: vec4f) -> vec4f {
  var v = acc;
  v *= 0.125;
  return v;
}

fn storeC(start: u32, at: u32, value: vec4f) {
  for (var j = 0u; j < 4u; j++) {
    if (at + j < p.N) {
      c[start + at + j] = value[j];
    }
  }
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let index = gid.x + gid.y * groups.x * 64u;
  let tilesN = (p.N + 4u * COLS4 - 1u) / (4u * COLS4);
  let tiles = tilesN * ((p.M + ROWS - 1u) / ROWS);
  if (index >= tiles * p.batch * p.heads) { return; }
  let z = index / tiles;
  let tile = index % tiles;
  let rows = p.M;
  let aBase = (z / p.heads) * p.aBatchStride + (z % p.heads) * p.aHeadStride;
  let bBase = (z / p.heads) * p.bBatchStride + (z % p.heads) * p.bHeadStride;
  let cBase = (z / p.heads) * p.cBatchStride + (z % p.heads) * p.cHeadStride;
  let biasBase = 0u;
  let row0 = (tile / tilesN) * ROWS;
  let col0 = (tile % tilesN) * 4u * COLS4;
  let aRow0 = aBase + min(row0, rows - 1u) * p.lda;
  let aRow1 = aBase + min(row0 + 1u, rows - 1u) * p.lda;
  let bRow0_0 = bBase + min(col0, p.N - 1u) * p.ldb;
  let bRow0_1 = bBase + min(col0 + 1u, p.N - 1u) * p.ldb;
  let bRow0_2 = bBase + min(col0 + 2u, p.N - 1u) * p.ldb;
  let bRow0_3 = bBase + min(col0 + 3u, p.N - 1u) * p.ldb;
  var acc: array<array<vec4f, COLS4>, ROWS>;
  for (var k = 0u; k < p.K; k += 4u) {
    var av: array<vec4f, ROWS>;
    av[0] = loadA(aRow0, k);
    av[1] = loadA(aRow1, k);
    let bm0 = mat4x4f(loadB(bRow0_0, k), loadB(bRow0_1, k), loadB(bRow0_2, k), loadB(bRow0_3, k));
    acc[0][0] += av[0] * bm0;
    acc[1][0] += av[1] * bm0;
  }
  for (var r = 0u; r < ROWS; r++) {
    let row = row0 + r;
    if (row >= rows) { break; }
    let rowStart = cBase + row * p.ldc;
    for (var c = 0u; c < COLS4; c++) {
      let col = col0 + 4u * c;
      storeC(rowStart, col, epilogue(biasBase, rowStart, col, acc[r][c]));
    }
  }
}
