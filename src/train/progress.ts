// A one-line progress bar with loss and throughput, redrawn in place; callers write it only to a TTY.
import type { StepReport } from './loop.ts';

const BAR = 24;

export function progressLine(report: StepReport, examplesPerSecond: number): string {
  const done = Math.round((report.step / report.totalSteps) * BAR);
  const bar = `${'#'.repeat(done)}${'.'.repeat(BAR - done)}`;
  return `\r[${bar}] step ${report.step}/${report.totalSteps} epoch ${report.epoch + 1} loss ${report.loss.toFixed(4)} ${examplesPerSecond.toFixed(1)} ex/s`;
}
