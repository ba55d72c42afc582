// matmul

struct Params {
  M: u32,
  N: u32,
  K: u32,
}

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read> residual: array<f32>;
@group(0) @binding(4) var<storage, read> columnScale: array<f32>;
@group(0) @binding(5) var<storage, read_write> c: array<f32>;
@group(0) @binding(6) var<uniform> p: Params;

const ROWS = 2u;
const COLS4 = 1u;

fn loadA(start: u32, at: u32) -> vec4f {
  var loaded = vec4f(0.0);
  for (var j = 0u; j < 4u; j++) {
    if (at + j < p.K) {
      loaded[j] = a[start + at + j];
    }
  }
  return loaded;
}

fn loadB(start: u32, at: u32) -> vec4f {
  var loaded = vec4f(0.0);
  for (var j = 0u; j < 4u; j++) {
    if (at + j < p.N) {
      loaded[j] = b[start + at + j];
    }
  }
  return loaded;
}

fn loadBias(start: u32, at: u32) -> vec4f {
  var loaded = vec4f(0.0);
  for (var j = 0u; j < 4u; j++) {
    if (at + j < p.N) {
      loaded[j] = bias[start + at + j];
    }
  }
  return loaded;
}

fn loadResidual(start: u32, at: u32) -> vec4f {
  var loaded = vec4f(0.0);
  for (var j = 0u; j < 4u; j++) {
    if (at + j < p.N) {
      loaded[j] = residual[start + at + j];
    }
  }
  return loaded;
}

fn loadColumnScale(start: u32, at: u32) -> vec4f {
  var loaded = vec4f(0.0);
  for (var j = 0u; j < 4u; j++) {
    if (at + j < p.N) {
      loaded[j] = columnScale[start + at + j];
    }
  }
  return loaded;
}

fn epilogue(biasBase: u32, rowStart: u32, col: u32, acc: vec4f) -> vec4f {
  var v = acc;
  v += loadBias(biasBase, col);
  v *= 0.5;
  v += loadResidual(rowStart, col);
  v *= loadColumnScale(0u, col);
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
  let bCol0 = col0;
  var acc: array<array<vec4f, COLS4>, ROWS>;
  for (var k = 0u; k < p.K; k += 4u) {
    var av: array<vec4f, ROWS>;
    av[0] = loadA(aRow0, k);
    av[1] = loadA(aRow1, k);
    let bRow0 = bBase + min(k, p.K - 1u) * p.N;
    let b0_0 = loadB(bRow0, bCol0);
    acc[0][0] += av[0][0] * b0_0;
    acc[1][0] += av[1][0] * b0_0;
    let bRow1 = bBase + min(k + 1u, p.K - 1u) * p.N;
    let b1_0 = loadB(bRow1, bCol0);
    acc[0][0] += av[0][1] * b1_0;
    acc[1][0] += av[1][1] * b1_0;
    let bRow2 = bBase + min(k + 2u, p.K - 1u) * p.N;
    let b2_0 = loadB(bRow2, bCol0);
    acc[0][0] += av[0][2] * b2_0;
    acc[1][0] += av[1][2] * b2_0;
    let bRow3 = bBase + min(k + 3u, p.K - 1u) * p.N;
    let b3_0 = loadB(bRow3, bCol0);
    acc[0][0] += av[0][3] * b3_0;
    acc[1][0] += av[1][3] * b3_0;
  }
  for (var r = 0u; r < ROWS; r++) {
    let row = row0 + r;
    if (row >= rows) { break; }
    let rowStart = cBase + row * p.N;
    for (var c = 0u; c < COLS4; c++) {
      let col = col0 + 4u * c;
      storeC(rowStart, col, epilogue(biasBase, rowStart, col, acc[r][c]));
    }
  }
}
