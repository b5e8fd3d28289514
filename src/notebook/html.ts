import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Renders rows (objects with the same keys) as a plain HTML table. */
export function htmlTable(columns: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const head = columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((v) => `<td>${escapeHtml(String(v))}</td>`).join('')}</tr>`).join('\n');
  return `<table class="tm-table"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/**
 * Formats one table value for display: an epoch-millisecond field (name ending in `Ms`, e.g. `startMs`) as an ISO-8601
 * UTC string, another finite number to `digits` significant digits (integers below 1e15 stay exact), anything else as is.
 * @example tableValue('startMs', 1641009600000) // '2022-01-01T04:00:00.000Z'
 */
export function tableValue(key: string, value: unknown, digits = 6): unknown {
  if (typeof value !== 'number' || !Number.isFinite(value)) return value;
  if (/Ms$/.test(key) && Number.isInteger(value)) return new Date(value).toISOString();
  if (Number.isInteger(value) && Math.abs(value) < 1e15) return value;
  return Number(value.toPrecision(digits));
}

/** `[name, value]` rows of a metrics object (all keys, or `keys` in that order) formatted by {@link tableValue}, for `htmlTable(['metric', 'value'], ...)`. */
export function metricRows(metrics: object, keys?: readonly string[]): unknown[][] {
  const record = metrics as Record<string, unknown>;
  return (keys ?? Object.keys(record)).map((k) => [k, tableValue(k, record[k])]);
}

/** The plotly.js bundle (plotly.js-dist-min) as a `<script>` tag: embed once per notebook or page, works offline. */
export function plotlyScriptTag(): string {
  const path = createRequire(import.meta.url).resolve('plotly.js-dist-min');
  return `<script>${readFileSync(path, 'utf8')}</script>`;
}

/** A plotly figure as a div plus the script that draws it (needs {@link plotlyScriptTag} earlier on the page). */
export function plotlyDiv(id: string, figure: { data: unknown[]; layout?: Record<string, unknown> }, height = 420): string {
  const safeId = id.replace(/[^A-Za-z0-9_-]/g, '-');
  const json = JSON.stringify(figure).replace(/</g, '\\u003c');
  return `<div id="${safeId}" style="height:${height}px"></div><script>(function(){var f=${json};Plotly.newPlot(${JSON.stringify(safeId)},f.data,Object.assign({margin:{t:40,l:60,r:20,b:40}},f.layout||{}),{responsive:true});})();</script>`;
}
