/**
 * Builders for Grafana dashboards typed against @grafana/schema. Dashboards are written as compact specs (rows of
 * panels with PromQL queries) and rendered to the JSON Grafana's file provider loads (docker/grafana/dashboards/).
 */
import { DashboardCursorSync, MappingType, ThresholdsMode, VariableRefresh, VariableSort, type Dashboard, type Panel, type RowPanel, type ValueMapping, type VariableModel } from '@grafana/schema';

export const PROMETHEUS = { type: 'prometheus', uid: 'prometheus' } as const;

export type PanelType = 'timeseries' | 'stat' | 'gauge' | 'table' | 'state-timeline' | 'bargauge' | 'heatmap' | 'piechart';

export interface QuerySpec {
  readonly expr: string;
  /** Legend format, e.g. `{{instrument}}`. */
  readonly legend?: string;
  /** Table/stat panels show the latest value only. */
  readonly instant?: boolean;
}

export interface PanelSpec {
  readonly title: string;
  readonly type: PanelType;
  readonly queries: readonly QuerySpec[];
  /** Grafana unit id: `currencyUSD`, `percentunit`, `s`, `bytes`, `short`, `dateTimeFromNow`, ... */
  readonly unit?: string;
  readonly description?: string;
  /** Grid width out of 24 (default 6 for stat/gauge, 12 otherwise). */
  readonly width?: number;
  readonly height?: number;
  readonly min?: number;
  readonly max?: number;
  /** Value → text mappings (e.g. 1 → OPEN). */
  readonly mappings?: Readonly<Record<string, { readonly text: string; readonly color: string }>>;
  readonly thresholds?: readonly { readonly value: number | null; readonly color: string }[];
}

export interface RowSpec {
  readonly row: string;
  readonly panels: readonly PanelSpec[];
}

export interface DashboardSpec {
  readonly uid: string;
  readonly title: string;
  readonly description: string;
  readonly tags: readonly string[];
  /** Template variables over label values of a metric: `{ name: 'instrument', metric: 'trade_matrix_market_price_usdt' }`. */
  readonly variables: readonly { readonly name: string; readonly metric: string }[];
  readonly rows: readonly RowSpec[];
}

const compactWidth = (type: PanelType) => (type === 'stat' || type === 'gauge' ? 4 : 12);

function panel(spec: PanelSpec, id: number, x: number, y: number, w: number, h: number): Panel {
  const thresholds = spec.thresholds ?? [{ value: null, color: 'green' }];
  const mappings: ValueMapping[] = spec.mappings
    ? [{ type: MappingType.ValueToText, options: Object.fromEntries(Object.entries(spec.mappings).map(([value, m], index) => [value, { text: m.text, color: m.color, index }])) }]
    : [];
  return {
    id,
    type: spec.type,
    title: spec.title,
    ...(spec.description ? { description: spec.description } : {}),
    datasource: PROMETHEUS,
    gridPos: { x, y, w, h },
    fieldConfig: {
      defaults: {
        unit: spec.unit ?? 'short',
        ...(spec.min !== undefined ? { min: spec.min } : {}),
        ...(spec.max !== undefined ? { max: spec.max } : {}),
        mappings,
        thresholds: { mode: ThresholdsMode.Absolute, steps: thresholds.map((t) => ({ value: t.value, color: t.color })) },
      },
      overrides: [],
    },
    options: spec.type === 'table' ? { showHeader: true } : { legend: { displayMode: 'list', placement: 'bottom', showLegend: true }, reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false } },
    targets: spec.queries.map((q, k) => ({
      refId: String.fromCharCode(65 + k),
      datasource: PROMETHEUS,
      expr: q.expr,
      ...(q.legend ? { legendFormat: q.legend } : {}),
      ...(q.instant || spec.type === 'table' ? { instant: true, range: false, format: spec.type === 'table' ? 'table' : 'time_series' } : { range: true }),
    })),
  };
}

function variable(name: string, metric: string): VariableModel {
  return {
    name,
    label: name,
    type: 'query',
    datasource: PROMETHEUS,
    query: { query: `label_values(${metric}, ${name})`, refId: `${name}-values` },
    includeAll: true,
    multi: true,
    allValue: '.*',
    current: { text: 'All', value: '$__all' },
    refresh: VariableRefresh.onTimeRangeChanged,
    sort: VariableSort.alphabeticalAsc,
  };
}

/** Lays the rows out on Grafana's 24-column grid (left to right, wrapping) and numbers the panels. */
export function buildDashboard(spec: DashboardSpec): Dashboard {
  const panels: (Panel | RowPanel)[] = [];
  let id = 1;
  let y = 0;
  for (const row of spec.rows) {
    panels.push({ id: id++, type: 'row', title: row.row, collapsed: false, gridPos: { x: 0, y, w: 24, h: 1 }, panels: [] });
    y += 1;
    let x = 0;
    let rowHeight = 0;
    for (const p of row.panels) {
      const w = p.width ?? compactWidth(p.type);
      const h = p.height ?? (p.type === 'stat' || p.type === 'gauge' ? 4 : 8);
      if (x + w > 24) {
        x = 0;
        y += rowHeight;
        rowHeight = 0;
      }
      panels.push(panel(p, id++, x, y, w, h));
      x += w;
      rowHeight = Math.max(rowHeight, h);
    }
    y += rowHeight;
  }
  return {
    uid: spec.uid,
    title: spec.title,
    description: spec.description,
    tags: [...spec.tags],
    editable: false,
    graphTooltip: DashboardCursorSync.Crosshair,
    refresh: '30s',
    schemaVersion: 39,
    time: { from: 'now-6h', to: 'now' },
    timezone: 'utc',
    templating: { list: spec.variables.map((v) => variable(v.name, v.metric)) },
    annotations: { list: [] },
    links: [],
    panels,
  };
}

/** Every PromQL expression of a dashboard, in panel order. */
export function dashboardQueries(dashboard: Dashboard): { panel: string; expr: string }[] {
  const out: { panel: string; expr: string }[] = [];
  for (const p of dashboard.panels ?? []) {
    if (p.type === 'row') continue;
    for (const t of (p as Panel).targets ?? []) out.push({ panel: (p as Panel).title ?? '', expr: String(t['expr']) });
  }
  return out;
}
