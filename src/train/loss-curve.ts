// The loss curve as a small standalone SVG: training loss per step, and its moving average.

const WIDTH = 640;
const HEIGHT = 320;
const PAD = 48;

function movingAverage(values: readonly number[], window: number): number[] {
  return values.map((_, i) => {
    const from = Math.max(0, i - window + 1);
    const part = values.slice(from, i + 1);
    return part.reduce((a, b) => a + b, 0) / part.length;
  });
}

function polyline(values: readonly number[], max: number, stroke: string, width: number): string {
  const x = (i: number) => PAD + (values.length === 1 ? 0 : (i / (values.length - 1)) * (WIDTH - 2 * PAD));
  const y = (v: number) => HEIGHT - PAD - (max === 0 ? 0 : (v / max) * (HEIGHT - 2 * PAD));
  const points = values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
  return `<polyline fill="none" stroke="${stroke}" stroke-width="${width}" points="${points}"/>`;
}

export function lossCurveSvg(losses: readonly number[]): string {
  const finite = losses.filter(Number.isFinite);
  const max = Math.max(...finite, 0);
  const smooth = movingAverage(finite, Math.max(1, Math.round(finite.length / 20)));
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<line x1="${PAD}" y1="${HEIGHT - PAD}" x2="${WIDTH - PAD}" y2="${HEIGHT - PAD}" stroke="#888"/>`,
    `<line x1="${PAD}" y1="${PAD}" x2="${PAD}" y2="${HEIGHT - PAD}" stroke="#888"/>`,
    `<text x="${WIDTH / 2}" y="${HEIGHT - 12}" text-anchor="middle">step (${finite.length})</text>`,
    `<text x="${PAD - 6}" y="${PAD}" text-anchor="end">${max.toPrecision(3)}</text>`,
    `<text x="${PAD - 6}" y="${HEIGHT - PAD}" text-anchor="end">0</text>`,
    `<text x="${WIDTH / 2}" y="24" text-anchor="middle">training loss</text>`,
    finite.length > 0 ? polyline(finite, max, '#9ecae1', 1) : '',
    finite.length > 0 ? polyline(smooth, max, '#08519c', 2) : '',
    '</svg>',
    '',
  ].join('\n');
}
