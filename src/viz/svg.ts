// A composition plan as a standalone SVG: layers (rows) × adapters and fusions (columns), each active
// cell naming its hook points; dropped layers greyed; the Parallel replication band; heads at the
// bottom; a legend. Pure text out, no DOM, so it renders the same in a browser and in a snapshot.
import type { CompositionPlan } from './plan.ts';

const MARGIN = 20;
const LABEL_WIDTH = 110;
const COLUMN_WIDTH = 180;
const ROW_HEIGHT = 24;
const HEADER_HEIGHT = 44;
const GRID_TOP = 84;
const BAND_LABEL_WIDTH = 300;
const HEAD_HEIGHT = 44;
const LEGEND_ROW = 20;

const ADAPTER_COLORS = [
  '#2563eb',
  '#059669',
  '#d97706',
  '#db2777',
  '#0891b2',
  '#65a30d',
  '#9333ea',
  '#dc2626',
];
const FUSION_COLOR = '#7c3aed';
const DROPPED_FILL = '#e5e7eb';
const DROPPED_TEXT = '#9ca3af';
const REPLICATED_FILL = '#fde68a';
const SHARED_FILL = '#dbeafe';

/** Where the grid's rows and columns are, for the renderer and for overlays drawn on top of it. */
export interface PlanLayout {
  readonly gridLeft: number;
  readonly gridRight: number;
  readonly rowHeight: number;
  /** Top of the row of `layer` (−1 is the embeddings row). */
  rowTop(layer: number): number;
  columnLeft(column: number): number;
}

/**
 * Extra drawing over the grid, appended after it: the extension point for what later stages know
 * (kernel groups from codegen, timings from a profiler), kept out of the plan itself.
 */
export type PlanOverlay = (plan: CompositionPlan, layout: PlanLayout) => string;

export const escapeXml = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const columnColor = (plan: CompositionPlan, column: number): string => {
  if (plan.columns[column].kind === 'fusion') return FUSION_COLOR;
  const adapterIndex = plan.columns.slice(0, column).filter((c) => c.kind === 'adapter').length;
  return ADAPTER_COLORS[adapterIndex % ADAPTER_COLORS.length];
};

const text = (x: number, y: number, body: string, attrs = ''): string =>
  `<text x="${x}" y="${y}"${attrs === '' ? '' : ` ${attrs}`}>${escapeXml(body)}</text>`;

const rect = (x: number, y: number, w: number, h: number, attrs: string): string =>
  `<rect x="${x}" y="${y}" width="${w}" height="${h}" ${attrs}/>`;

function layoutOf(plan: CompositionPlan): PlanLayout {
  const gridLeft = MARGIN + LABEL_WIDTH;
  return {
    gridLeft,
    gridRight: gridLeft + Math.max(plan.columns.length, plan.heads.length, 1) * COLUMN_WIDTH,
    rowHeight: ROW_HEIGHT,
    rowTop: (layer) => GRID_TOP + HEADER_HEIGHT + (layer + 1) * ROW_HEIGHT,
    columnLeft: (column) => gridLeft + column * COLUMN_WIDTH,
  };
}

function columnHeaders(plan: CompositionPlan, layout: PlanLayout): string[] {
  return plan.columns.flatMap((column, i) => {
    const x = layout.columnLeft(i) + COLUMN_WIDTH / 2;
    return [
      text(
        x,
        GRID_TOP + 18,
        column.label,
        `text-anchor="middle" font-weight="bold" fill="${columnColor(plan, i)}"`,
      ),
      text(x, GRID_TOP + 34, column.detail, 'text-anchor="middle" font-size="11" fill="#4b5563"'),
    ];
  });
}

function rows(plan: CompositionPlan, layout: PlanLayout): string[] {
  const dropped = new Set(plan.dropped);
  const width = layout.gridRight - MARGIN;
  const out = [
    rect(MARGIN, layout.rowTop(-1), width, ROW_HEIGHT, 'fill="#f9fafb" stroke="#e5e7eb"'),
    text(MARGIN + 6, layout.rowTop(-1) + 16, 'embeddings', 'font-size="12" fill="#374151"'),
  ];
  for (let layer = 0; layer < plan.layers; layer++) {
    const y = layout.rowTop(layer);
    const isDropped = dropped.has(layer);
    out.push(
      rect(MARGIN, y, width, ROW_HEIGHT, `fill="${isDropped ? DROPPED_FILL : '#ffffff'}" stroke="#e5e7eb"`),
      text(
        MARGIN + 6,
        y + 16,
        isDropped ? `layer ${layer} · dropped` : `layer ${layer}`,
        `font-size="12" fill="${isDropped ? DROPPED_TEXT : '#374151'}"`,
      ),
    );
  }
  return out;
}

function cells(plan: CompositionPlan, layout: PlanLayout): string[] {
  return plan.cells.flatMap((cell) => {
    const x = layout.columnLeft(cell.column) + 4;
    const y = layout.rowTop(cell.layer) + 3;
    return [
      rect(x, y, COLUMN_WIDTH - 8, ROW_HEIGHT - 6, `rx="4" fill="${columnColor(plan, cell.column)}"`),
      text(
        x + (COLUMN_WIDTH - 8) / 2,
        y + 13,
        cell.locations.join(' + '),
        'text-anchor="middle" font-size="10" fill="#ffffff"',
      ),
    ];
  });
}

/** Shared rows (run once on the original batch) and the replicated rows, from the Parallel tile on. */
function replicationBands(plan: CompositionPlan, layout: PlanLayout, headsBottom: number): string[] {
  const r = plan.replication;
  if (r === null) return [];
  const x = layout.gridRight + 8;
  const sharedTop = layout.rowTop(-1);
  const top = layout.rowTop(r.layer);
  return [
    rect(x, sharedTop, 10, top - sharedTop, `fill="${SHARED_FILL}" stroke="#60a5fa"`),
    text(x + 16, sharedTop + 16, 'shared: runs once on the original batch', 'font-size="11" fill="#1d4ed8"'),
    rect(
      MARGIN,
      top,
      x + 10 - MARGIN,
      headsBottom - top,
      `fill="${REPLICATED_FILL}" fill-opacity="0.25" stroke="#d97706" stroke-dasharray="6 3"`,
    ),
    rect(x, top, 10, headsBottom - top, `fill="${REPLICATED_FILL}" stroke="#d97706"`),
    text(
      x + 16,
      top + 16,
      `replicated ×${r.channels}: one copy per Parallel channel`,
      'font-size="11" fill="#92400e"',
    ),
    text(x + 16, top + 30, `from ${r.scope}`, 'font-size="11" fill="#92400e"'),
  ];
}

function headBoxes(plan: CompositionPlan, layout: PlanLayout, top: number): string[] {
  const width = COLUMN_WIDTH - 8;
  return plan.heads.flatMap((head, i) => {
    const x = layout.gridLeft + i * COLUMN_WIDTH + 4;
    const channel = head.channel === null ? 'all rows' : `channel ${head.channel}`;
    const labels = head.labels.length > 0 ? `${head.labels.length} labels: ${head.labels.join(', ')}` : '';
    return [
      rect(x, top, width, HEAD_HEIGHT, 'rx="6" fill="#111827"'),
      text(
        x + width / 2,
        top + 17,
        `head ${head.name} · ${channel}`,
        'text-anchor="middle" font-size="12" font-weight="bold" fill="#ffffff"',
      ),
      text(
        x + width / 2,
        top + 33,
        shorten(labels, 34),
        'text-anchor="middle" font-size="10" fill="#d1d5db"',
      ),
    ];
  });
}

const shorten = (s: string, max: number): string => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

/** Legend entries for what this plan shows. */
function legendEntries(plan: CompositionPlan): [string, string][] {
  return [
    [ADAPTER_COLORS[0], 'adapter active at this layer (hook points named)'],
    ...(plan.columns.some((c) => c.kind === 'fusion')
      ? [[FUSION_COLOR, 'AdapterFusion over the adapters it fuses'] as [string, string]]
      : []),
    ...(plan.dropped.length > 0
      ? [[DROPPED_FILL, 'dropped layer (AdapterDrop): no adapter runs'] as [string, string]]
      : []),
    ...(plan.replication !== null
      ? [
          [SHARED_FILL, 'shared: computed once on the original batch'] as [string, string],
          [REPLICATED_FILL, 'replicated: batch repeated per Parallel channel'] as [string, string],
        ]
      : []),
  ];
}

function legend(entries: readonly [string, string][], top: number): string[] {
  return entries.flatMap(([color, label], i) => [
    rect(MARGIN, top + i * LEGEND_ROW, 14, 14, `fill="${color}" stroke="#9ca3af"`),
    text(MARGIN + 22, top + i * LEGEND_ROW + 12, label, 'font-size="11" fill="#374151"'),
  ]);
}

/** The plan as SVG text; `overlays` draw on top of the grid (see PlanOverlay). */
export function renderPlanSvg(plan: CompositionPlan, overlays: readonly PlanOverlay[] = []): string {
  const layout = layoutOf(plan);
  const headsTop = layout.rowTop(plan.layers) + 16;
  const headsBottom = headsTop + (plan.heads.length > 0 ? HEAD_HEIGHT : 0);
  const legendTop = headsBottom + 24;
  const width = layout.gridRight + 18 + BAND_LABEL_WIDTH;
  const entries = legendEntries(plan);
  const height = legendTop + entries.length * LEGEND_ROW + MARGIN;
  const body = [
    rect(0, 0, width, height, 'fill="#ffffff"'),
    text(MARGIN, 30, plan.title, 'font-size="16" font-weight="bold" fill="#111827"'),
    text(MARGIN, 52, plan.setup, 'font-size="12" font-family="ui-monospace, monospace" fill="#374151"'),
    ...rows(plan, layout),
    ...replicationBands(plan, layout, headsBottom),
    ...columnHeaders(plan, layout),
    ...cells(plan, layout),
    ...headBoxes(plan, layout, headsTop),
    ...legend(entries, legendTop),
    ...overlays.map((overlay) => overlay(plan, layout)),
  ];
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif">`,
    `<title>${escapeXml(`${plan.title}: ${plan.setup}`)}</title>`,
    ...body.map((line) => `  ${line}`),
    '</svg>',
    '',
  ].join('\n');
}
