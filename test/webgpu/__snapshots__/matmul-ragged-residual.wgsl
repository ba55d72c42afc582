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

fn epilogue(rowStart: u32, col: u32, acc: vec4f) -> vec4f {
  var v = acc;
  v += loadBias(0u, col);
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
  let z = index / tiles;
  let tile = index % tiles;
  let row0 = (tile / tilesN) * ROWS;
  let col0 = (tile % tilesN) * 4u * COLS4;
  let aBase = 0u;
  let bBase = 0u;
  let cBase = 0u;
  let aRow0u = aBase + min(row0 + 0u, p.M - 1u) * p.K;
  let aRow1u = aBase + min(row0 + 1u, p.M - 1u) * p.K;
  let bCol0u = col0 + 4u * 0u;
  var acc: array<array<vec4f, COLS4>, ROWS>;
  for (var k = 0u; k < p.K; k += 4u) {
    var av: array<vec4f, ROWS>;
    av[0u] = loadA(aRow0u, k);
    av[1u] = loadA(aRow1u, k);
    let bRow0u = bBase + min(k + 0u, p.K - 1u) * p.N;
    let b0u_0u = loadB(bRow0u, bCol0u);
    acc[0u][0u] += av[0u][0u] * b0u_0u;
    acc[1u][0u] += av[1u][0u] * b0u_0u;
    let bRow1u = bBase + min(k + 1u, p.K - 1u) * p.N;
    let b1u_0u = loadB(bRow1u, bCol0u);
    acc[0u][0u] += av[0u][1u] * b1u_0u;
    acc[1u][0u] += av[1u][1u] * b1u_0u;
    let bRow2u = bBase + min(k + 2u, p.K - 1u) * p.N;
    let b2u_0u = loadB(bRow2u, bCol0u);
    acc[0u][0u] += av[0u][2u] * b2u_0u;
    acc[1u][0u] += av[1u][2u] * b2u_0u;
    let bRow3u = bBase + min(k + 3u, p.K - 1u) * p.N;
    let b3u_0u = loadB(bRow3u, bCol0u);
    acc[0u][0u] += av[0u][3u] * b3u_0u;
    acc[1u][0u] += av[1u][3u] * b3u_0u;
  }
  for (var r = 0u; r < ROWS; r++) {
    let row = row0 + r;
    if (row >= p.M) { break; }
    let rowStart = cBase + row * p.N;
    for (var c = 0u; c < COLS4; c++) {
      let col = col0 + 4u * c;
      storeC(rowStart, col, epilogue(rowStart, col0 + 4u * c, acc[r][c]));
    }
  }
}
