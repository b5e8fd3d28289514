import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { AppError, invariant } from '../core/app-error.js';
import type { BacktestResult, FillRecord, TradeRecord } from './backtest-result.js';
import { computeMetrics, drawdownSeries, monthlyReturns, rollingSharpe, simpleReturns, tierAttribution, YEAR_MS, type BacktestMetrics, type TierAttribution, type TierStats } from './metrics.js';

/**
 * The run report: a deterministic JSON summary ({@link summarize}) and one standalone, offline HTML page
 * ({@link renderHtmlReport}) with the plotly bundle inlined. {@link writeReport} writes both atomically.
 */

/** Codes of report failures: the plotly bundle cannot be found/read, or the report files cannot be written. */
export type ReportErrorCode = 'plotly_bundle_missing' | 'io';

/** A report could not be produced; `context` holds the path involved. */
export class ReportError extends AppError<ReportErrorCode> {}

/** The trades table lists at most this many trades (the first ones, in time order) and says so when it cuts. */
export const TRADES_TABLE_LIMIT = 2000;
/** Candles per instrument above this are aggregated into OHLC buckets for display only. */
export const MAX_CANDLES_PER_INSTRUMENT = 20_000;
/** Line plots (equity, drawdown, rolling Sharpe) above this many points are min/max-decimated for display only. */
export const MAX_LINE_POINTS = 20_000;
/** Rolling-Sharpe window in calendar days; in bars it is `round(30 × periodsPerYear / 365.25)` (4h: 180). */
export const ROLLING_SHARPE_DAYS = 30;

/** A value `JSON.stringify` maps to itself when parsed back. */
export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/** Metrics as written to the summary: non-integers rounded to 10 significant digits, integers kept exact. */
export type SummaryMetrics = { readonly [K in keyof BacktestMetrics]: BacktestMetrics[K] };

/** Deterministic, JSON-able summary of one run. Key order is fixed by construction. */
export interface BacktestSummary {
  readonly schemaVersion: 1;
  readonly name: string;
  readonly instruments: readonly string[];
  readonly dataSources: readonly { readonly instrument: string; readonly venue: string; readonly symbol: string; readonly timeframe: string; readonly note: string | null }[];
  /** First and last equity sample (bar close times), ISO-8601 UTC and epoch ms. */
  readonly period: { readonly start: string; readonly end: string; readonly startMs: number; readonly endMs: number; readonly years: number; readonly timeframe: string; readonly periodsPerYear: number };
  readonly seed: number;
  /** The run config with object keys sorted recursively; non-finite numbers and bigints as strings. */
  readonly config: JsonValue;
  readonly initialCash: number;
  readonly metrics: SummaryMetrics;
  readonly counts: {
    readonly equitySamples: number;
    readonly fills: number;
    readonly trades: number;
    readonly fundingPayments: number;
    readonly fundingFallbackPayments: number;
    readonly liquidations: number;
    readonly notes: number;
  };
  /** Money in USDT. `byInstrument` fees are summed from fills, funding from funding payments (positive = paid). */
  readonly costs: {
    readonly feesPaid: number;
    readonly fundingPaid: number;
    readonly turnoverNotional: number;
    readonly byInstrument: readonly { readonly instrument: string; readonly fees: number; readonly funding: number; readonly fills: number; readonly trades: number }[];
  };
  /**
   * Time and mark-to-market PnL per sizing tier ({@link tierAttribution}; PnL in USDT, rounded like the metrics).
   * Present only when the strategy annotated tiers.
   */
  readonly tierAttribution?: {
    readonly tierChanges: number;
    readonly total: readonly TierStats[];
    readonly byInstrument: readonly { readonly instrument: string; readonly tiers: readonly TierStats[] }[];
  };
  readonly notes: readonly string[];
}

/** Paths of the files written by {@link writeReport}. */
export interface ReportPaths {
  readonly summaryPath: string;
  readonly htmlPath: string;
}

type MetricFormat = 'percent' | 'ratio' | 'money' | 'integer' | 'days' | 'times' | 'date' | 'years' | 'boolean';

/** Every metric with its label and display format; the key order here is the order in the summary and the table. */
const METRIC_FORMATS: { readonly [K in keyof BacktestMetrics]: readonly [label: string, format: MetricFormat] } = {
  totalReturn: ['Total return', 'percent'],
  cagr: ['CAGR (365.25-day years)', 'percent'],
  annualVolatility: ['Annualised volatility', 'percent'],
  sharpe: ['Sharpe ratio (annualised, risk-free 0)', 'ratio'],
  sortino: ['Sortino ratio (annualised, target 0)', 'ratio'],
  calmar: ['Calmar ratio (CAGR / |max drawdown|)', 'ratio'],
  maxDrawdown: ['Max drawdown', 'percent'],
  maxDrawdownDurationBars: ['Max drawdown duration (bars)', 'integer'],
  maxDrawdownDurationDays: ['Max drawdown duration', 'days'],
  maxDrawdownRecovered: ['Max drawdown recovered', 'boolean'],
  kRatio: ['K-ratio (Kestner 2003)', 'ratio'],
  tradeCount: ['Trades', 'integer'],
  winRate: ['Win rate', 'percent'],
  profitFactor: ['Profit factor', 'ratio'],
  grossProfit: ['Gross profit', 'money'],
  grossLoss: ['Gross loss', 'money'],
  fillCount: ['Fills', 'integer'],
  turnoverNotional: ['Traded notional', 'money'],
  turnover: ['Turnover (notional / mean equity)', 'times'],
  annualTurnover: ['Turnover per year', 'times'],
  exposure: ['Exposure (bars with a position)', 'percent'],
  feesPaid: ['Fees paid', 'money'],
  fundingPaid: ['Funding paid', 'money'],
  liquidations: ['Liquidations', 'integer'],
  initialEquity: ['Initial equity', 'money'],
  finalEquity: ['Final equity', 'money'],
  startMs: ['First bar close', 'date'],
  endMs: ['Last bar close', 'date'],
  years: ['Period', 'years'],
  bars: ['Bars', 'integer'],
};

// ---------------------------------------------------------------------------------------------------------------
// JSON summary

/** Rounds non-integers to 10 significant digits (integers such as counts and epoch ms stay exact); -0 becomes 0. */
function round10(x: number): number {
  if (!Number.isFinite(x)) return x;
  if (Number.isInteger(x)) return x === 0 ? 0 : x;
  const r = Number(x.toPrecision(10));
  return r === 0 ? 0 : r;
}

/** Returns `value` as JSON with object keys sorted recursively (so insertion order does not matter). */
function canonicalJson(value: unknown, path: string, seen: Set<object>): JsonValue {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case 'boolean':
    case 'string':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : String(value);
    case 'bigint':
      return value.toString();
    case 'function':
    case 'symbol':
      return null;
  }
  if (value instanceof Date) return value.toISOString();
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return Array.from(value as unknown as ArrayLike<number | bigint>, (v, i) => canonicalJson(v, `${path}[${i}]`, seen));
  const obj = value as object;
  invariant(!seen.has(obj), `config must not contain cycles, was cyclic at ${path}`, { path });
  seen.add(obj);
  let out: JsonValue;
  if (Array.isArray(obj)) out = obj.map((v, i) => canonicalJson(v, `${path}[${i}]`, seen));
  else {
    const entries: Record<string, JsonValue> = {};
    const source = obj instanceof Map ? Object.fromEntries(obj) : (obj as Record<string, unknown>);
    for (const key of Object.keys(source).sort()) {
      const v = source[key];
      if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
      entries[key] = canonicalJson(v, `${path}.${key}`, seen);
    }
    out = entries;
  }
  seen.delete(obj);
  return out;
}

interface InstrumentCosts {
  readonly instrument: string;
  fees: number;
  funding: number;
  fills: number;
  trades: number;
}

/** Per instrument (engine order): fees from fills, funding from funding payments, fill and trade counts. */
function costsByInstrument(result: BacktestResult): InstrumentCosts[] {
  const rows = result.instruments.map((instrument): InstrumentCosts => ({ instrument, fees: 0, funding: 0, fills: 0, trades: 0 }));
  const index = new Map(result.instruments.map((id, i) => [id, i]));
  for (const f of result.fills) {
    const i = index.get(f.instrument);
    if (i === undefined) continue;
    rows[i]!.fees += f.fee;
    rows[i]!.fills++;
  }
  for (const p of result.funding) {
    const i = index.get(p.instrument);
    if (i !== undefined) rows[i]!.funding += p.payment;
  }
  for (const t of result.trades) {
    const i = index.get(t.instrument);
    if (i !== undefined) rows[i]!.trades++;
  }
  return rows;
}

/**
 * Returns a deterministic, JSON-able summary of a run: identical inputs give a byte-identical `JSON.stringify`.
 * Key order is fixed by construction; config keys are sorted recursively; metrics and money are rounded to 10
 * significant digits (integers kept exact); null metrics stay null.
 * @throws InvariantError when `result.config` contains a cycle.
 * @example
 * const text = JSON.stringify(summarize(result, computeMetrics(result)), null, 2);
 */
export function summarize(result: BacktestResult, metrics: BacktestMetrics): BacktestSummary {
  const roundedMetrics: Record<string, number | boolean | null> = {};
  for (const key of Object.keys(METRIC_FORMATS) as (keyof BacktestMetrics)[]) {
    const v = metrics[key];
    roundedMetrics[key] = typeof v === 'number' ? round10(v) : v;
  }
  return {
    schemaVersion: 1,
    name: result.name,
    instruments: [...result.instruments],
    dataSources: result.dataSources.map((d) => ({ instrument: d.instrument, venue: d.venue, symbol: d.symbol, timeframe: d.timeframe, note: d.note ?? null })),
    period: {
      start: new Date(metrics.startMs).toISOString(),
      end: new Date(metrics.endMs).toISOString(),
      startMs: metrics.startMs,
      endMs: metrics.endMs,
      years: round10(metrics.years),
      timeframe: result.timeframe,
      periodsPerYear: result.periodsPerYear,
    },
    seed: result.seed,
    config: canonicalJson(result.config, 'config', new Set()),
    initialCash: round10(result.initialCash),
    metrics: roundedMetrics as unknown as SummaryMetrics,
    counts: {
      equitySamples: result.equity.value.length,
      fills: result.fills.length,
      trades: result.trades.length,
      fundingPayments: result.funding.length,
      fundingFallbackPayments: result.funding.reduce((n, p) => n + (p.source === 'fallback' ? 1 : 0), 0),
      liquidations: result.liquidations,
      notes: result.notes.length,
    },
    costs: {
      feesPaid: round10(result.feesPaid),
      fundingPaid: round10(result.fundingPaid),
      turnoverNotional: round10(result.turnoverNotional),
      byInstrument: costsByInstrument(result).map((c) => ({ instrument: c.instrument, fees: round10(c.fees), funding: round10(c.funding), fills: c.fills, trades: c.trades })),
    },
    ...tierSummary(result),
    notes: [...result.notes],
  };
}

/** The optional `tierAttribution` block of the summary (nothing when the run has no tier annotations). */
function tierSummary(result: BacktestResult): Pick<BacktestSummary, 'tierAttribution'> {
  const a = tierAttribution(result);
  if (a === null) return {};
  const rows = (tiers: readonly TierStats[]) => tiers.map((s) => ({ tier: s.tier, bars: s.bars, timeFraction: round10(s.timeFraction), pnl: s.pnl === null ? null : round10(s.pnl) }));
  return {
    tierAttribution: {
      tierChanges: result.annotations?.tiers?.length ?? 0,
      total: rows(a.total),
      byInstrument: a.byInstrument.map((b) => ({ instrument: b.instrument, tiers: rows(b.tiers) })),
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// HTML

/** Escapes `&`, `<`, `>`, `"` and `'` for HTML text and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&#39;'));
}

/** Escapes text for Plotly labels, which interpret a pseudo-HTML subset and decode `&amp;`, `&lt;`, `&gt;`. */
function escapePlotlyText(text: string): string {
  return text.replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'));
}

/** Serialises `value` for a `<script type="application/json">` element: `<`, `>`, `&`, U+2028/9 become `\u` escapes. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Makes JavaScript source safe inside `<script>…</script>`: `</script` in any letter case → `<\/script` (same meaning
 * in strings and regexes), so the source cannot close its element early.
 */
export function scriptSafe(js: string): string {
  return js.replace(/<\/(script)/gi, '<\\/$1');
}

/** The path of the installed plotly.js-dist-min bundle, resolved from this module. */
function plotlyBundlePath(): string {
  return createRequire(import.meta.url).resolve('plotly.js-dist-min');
}

/**
 * Returns the plotly.js bundle source from the file `locate` names (default: the installed plotly.js-dist-min).
 * @throws ReportError `plotly_bundle_missing` when `locate` throws or the file cannot be read (`context.path`: the
 * path, or `''` when none was found).
 */
export function readPlotlyBundle(locate: () => string = plotlyBundlePath): string {
  let path = '';
  try {
    path = locate();
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new ReportError('plotly_bundle_missing', `cannot read the plotly.js-dist-min bundle${path ? ` at ${path}` : ''}: ${(e as Error).message}`, { path }, { cause: e });
  }
}

/** Rounds display data to 8 significant digits; non-finite → null (a gap in Plotly). */
function r8(x: number): number | null {
  return Number.isFinite(x) ? Number(x.toPrecision(8)) : null;
}

function toList(a: Float64Array, round: (x: number) => number | null = r8): (number | null)[] {
  const out = new Array<number | null>(a.length);
  for (let i = 0; i < a.length; i++) out[i] = round(a[i]!);
  return out;
}

/**
 * Returns the indices to plot for a line of `y` with at most about `maxPoints` points: all of them when short enough,
 * otherwise the first and last index plus the minimum and maximum of each bucket (in time order), so peaks and
 * troughs survive decimation.
 */
function decimate(y: Float64Array, maxPoints: number): Int32Array {
  const n = y.length;
  if (n <= maxPoints) return Int32Array.from({ length: n }, (_, i) => i);
  const buckets = Math.max(1, Math.floor((maxPoints - 2) / 2));
  const out: number[] = [0];
  for (let b = 0; b < buckets; b++) {
    const lo = 1 + Math.floor((b * (n - 2)) / buckets);
    const hi = 1 + Math.floor(((b + 1) * (n - 2)) / buckets);
    if (hi <= lo) continue;
    let iMin = lo;
    let iMax = lo;
    for (let i = lo; i < hi; i++) {
      if (y[i]! < y[iMin]!) iMin = i;
      if (y[i]! > y[iMax]!) iMax = i;
    }
    if (iMin === iMax) out.push(iMin);
    else out.push(Math.min(iMin, iMax), Math.max(iMin, iMax));
  }
  out.push(n - 1);
  return Int32Array.from(out);
}

function pick(a: Float64Array, idx: Int32Array): Float64Array {
  const out = new Float64Array(idx.length);
  for (let i = 0; i < idx.length; i++) out[i] = a[idx[i]!]!;
  return out;
}

interface CandleSeries {
  readonly t: Float64Array;
  readonly o: Float64Array;
  readonly h: Float64Array;
  readonly l: Float64Array;
  readonly c: Float64Array;
  readonly bucket: number;
}

/** Aggregates OHLC into buckets of `ceil(n / max)` bars (open of the first, max high, min low, close of the last; NaN skipped). */
function candlesForDisplay(bar: BacktestResult['bars'][number], max: number): CandleSeries {
  const n = bar.ts.length;
  const present = bar.present;
  const gaps = present !== undefined && present.indexOf(0) >= 0;
  if (n <= max && !gaps) return { t: bar.ts, o: bar.open, h: bar.high, l: bar.low, c: bar.close, bucket: 1 };
  // A grid row without the instrument's bar (NaN or forward-filled) is no candle: it is left out of its bucket.
  const bucket = Math.ceil(n / max);
  const m = Math.ceil(n / bucket);
  const t = new Float64Array(m), o = new Float64Array(m).fill(NaN), h = new Float64Array(m).fill(NaN), l = new Float64Array(m).fill(NaN), c = new Float64Array(m).fill(NaN);
  for (let k = 0; k < m; k++) {
    const lo = k * bucket;
    const hi = Math.min(n, lo + bucket);
    t[k] = bar.ts[lo]!;
    let hiV = -Infinity, loV = Infinity;
    for (let i = lo; i < hi; i++) {
      if (gaps && present![i] === 0) continue;
      if (o[k] !== o[k] && bar.open[i] === bar.open[i]) o[k] = bar.open[i]!;
      if (bar.high[i]! > hiV) hiV = bar.high[i]!;
      if (bar.low[i]! < loV) loV = bar.low[i]!;
      if (bar.close[i] === bar.close[i]) c[k] = bar.close[i]!;
    }
    h[k] = hiV === -Infinity ? NaN : hiV;
    l[k] = loV === Infinity ? NaN : loV;
  }
  return { t, o, h, l, c, bucket };
}

/** The instrument's own bars: its grid rows less those it had no bar at (`present` 0). */
function barCount(bar: BacktestResult['bars'][number] | undefined): number {
  if (bar === undefined) return 0;
  if (bar.present === undefined) return bar.ts.length;
  let n = 0;
  for (let i = 0; i < bar.ts.length; i++) if (bar.present[i] !== 0) n++;
  return n;
}

function group3(integerDigits: string): string {
  return integerDigits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Formats `x` with `digits` decimals and thousands separators, independent of the locale. */
function fixed(x: number, digits: number): string {
  const s = x.toFixed(digits);
  const neg = s.startsWith('-');
  const [i, f] = (neg ? s.slice(1) : s).split('.');
  const body = group3(i!) + (f !== undefined ? `.${f}` : '');
  return neg && Number(s) !== 0 ? `-${body}` : body;
}

function isoMinute(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function formatMetric(value: number | boolean | null, format: MetricFormat): string {
  if (value === null) return 'n/a';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (!Number.isFinite(value)) return String(value);
  switch (format) {
    case 'percent':
      return `${fixed(value * 100, 2)} %`;
    case 'ratio':
      return fixed(value, 3);
    case 'money':
      return `${fixed(value, 2)} USDT`;
    case 'integer':
      return fixed(value, 0);
    case 'days':
      return `${fixed(value, 1)} days`;
    case 'times':
      return `${fixed(value, 2)}×`;
    case 'date':
      return isoMinute(value);
    case 'years':
      return `${fixed(value, 2)} years`;
    case 'boolean':
      return value ? 'yes' : 'no';
  }
}

/** A price or quantity for tables: up to 8 significant digits, no exponent for ordinary magnitudes. */
function formatQuantity(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  return String(Number(x.toPrecision(8)));
}

function markerText(f: FillRecord): string {
  return escapePlotlyText(`${f.side} ${formatQuantity(f.quantity)} @ ${formatQuantity(f.price)} (${f.liquidity}${f.reason ? `, ${f.reason}` : ''}) ${f.clientOrderId}`);
}

/**
 * Returns the ids of the plot divs of a report for `result`, in page order. With annotations it adds `plot-tiers`
 * (when tiers were annotated) and `plot-regime-<j>` for each `annotations.regimeProbabilities[j]`.
 */
export function plotIds(result: Pick<BacktestResult, 'instruments' | 'annotations'>): string[] {
  const tiers = (result.annotations?.tiers?.length ?? 0) > 0 ? ['plot-tiers'] : [];
  const regimes = (result.annotations?.regimeProbabilities ?? []).map((_, j) => `plot-regime-${j}`);
  return ['plot-equity', 'plot-drawdown', ...result.instruments.map((_, i) => `plot-candles-${i}`), 'plot-monthly', 'plot-rolling-sharpe', 'plot-costs', ...tiers, ...regimes];
}

/** Colours of regime labels in the stacked probability plots (other labels grey). */
const REGIME_COLORS: Readonly<Record<string, string>> = { crisis: '#d62728', bear: '#ff7f0e', neutral: '#bcbd22', bull: '#2ca02c' };

/** Plot data of the annotations: tier steps per instrument and stacked regime probabilities over closes. */
function annotationPlotData(result: BacktestResult) {
  const a = result.annotations;
  const order = ['none', 'EMERGENCY_FLAT', 'PURE_KELLY', 'BLENDED', 'FULL_RL'];
  for (const t of a?.tiers ?? []) if (!order.includes(t.tier)) order.splice(1, 0, t.tier);
  const lastTs = result.equity.ts.length > 0 ? result.equity.ts[result.equity.ts.length - 1]! : 0;
  const n = result.instruments.length;
  const tiers = result.instruments.map((id, i) => {
    const t: number[] = [], y: number[] = [], text: string[] = [];
    let prev: string | undefined; // no tier before the first step (any string, even '', is a tier)
    for (const x of a?.tiers ?? []) {
      if (x.instrument !== id || x.tier === prev) continue;
      prev = x.tier;
      t.push(x.ts);
      y.push(Math.round((order.indexOf(x.tier) + (i - (n - 1) / 2) * 0.1) * 1e6) / 1e6);
      text.push(escapePlotlyText(`${id}: ${x.tier} (${x.reason})`));
    }
    if (t.length > 0 && lastTs > t[t.length - 1]!) {
      t.push(lastTs);
      y.push(y[y.length - 1]!);
      text.push(escapePlotlyText(`${id}: ${prev!} (to the end)`));
    }
    return { name: escapePlotlyText(id), t, y, text };
  });
  const index = new Map(result.instruments.map((id, i) => [id, i]));
  const regimes = (a?.regimeProbabilities ?? []).map((r) => {
    const i = index.get(r.instrument);
    const bar = i === undefined ? undefined : result.bars[i];
    const closeTs = bar && result.equity.ts.length === bar.ts.length ? result.equity.ts : bar?.ts;
    const priceIdx = bar && closeTs ? strideIndex(bar.close.length, MAX_LINE_POINTS / 2) : new Int32Array(0);
    const idx = strideIndex(r.ts.length, MAX_LINE_POINTS / 2);
    return {
      title: escapePlotlyText(`${r.instrument}: filtered regime probabilities (stacked) and close`),
      t: Array.from(pick(r.ts, idx)),
      states: r.labels.map((label, k) => ({ label: escapePlotlyText(label), color: REGIME_COLORS[label] ?? '#7f7f7f', p: toList(pick(r.probabilities[k]!, idx), (x) => r8(x)) })),
      price: bar && closeTs ? { t: Array.from(pick(closeTs, priceIdx)), c: toList(pick(bar.close, priceIdx)) } : { t: [], c: [] },
    };
  });
  return { tierOrder: order.map(escapePlotlyText), tiers, regimes };
}

/** Every k-th index of 0..n-1 (plus the last) so that at most about `max` remain; display only. */
function strideIndex(n: number, max: number): Int32Array {
  const step = Math.max(1, Math.ceil(n / max));
  const out: number[] = [];
  for (let i = 0; i < n; i += step) out.push(i);
  if (n > 0 && out[out.length - 1] !== n - 1) out.push(n - 1);
  return Int32Array.from(out);
}

/** The time-in-tier / PnL-per-tier table (total, then each instrument). */
function tierTable(a: TierAttribution): string {
  const pctCell = (x: number) => `<td class="num">${escapeHtml(fixed(x * 100, 2))} %</td>`;
  const pnlCell = (x: number | null) => (x === null ? '<td class="num">n/a</td>' : `<td class="num ${x > 0 ? 'pos' : x < 0 ? 'neg' : ''}">${escapeHtml(fixed(x, 2))}</td>`);
  const head = ['Tier', 'Time (all)', 'PnL (all, USDT)', ...a.byInstrument.flatMap((b) => [`Time ${b.instrument}`, `PnL ${b.instrument}`])];
  const body = a.total
    .map((row) => {
      const cells = a.byInstrument.flatMap((b) => {
        const s = b.tiers.find((x) => x.tier === row.tier);
        return [pctCell(s?.timeFraction ?? 0), pnlCell(s ? s.pnl : 0)];
      });
      return `<tr><th scope="row">${escapeHtml(row.tier)}</th>${pctCell(row.timeFraction)}${pnlCell(row.pnl)}${cells.join('')}</tr>`;
    })
    .join('');
  return `<div class="trades-wrap"><table id="tier-attribution"><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${body}</tbody></table></div>`;
}

/** The report section of the annotations (empty string when the run has none). */
function annotationSection(result: BacktestResult, ids: readonly string[]): string {
  const a = result.annotations;
  if (a === undefined) return '';
  const parts: string[] = ['<section id="annotations">', '<h2>Sizing tiers and regimes</h2>'];
  const attribution = tierAttribution(result);
  if (ids.includes('plot-tiers') && attribution !== null) {
    parts.push(
      `<p class="sub">Sizing tier in force per instrument over time (${fixed(a.tiers?.length ?? 0, 0)} tier or reason changes; hover for the reason). Attribution rule: a bar belongs to the tier in force at its start (the decision of the previous close, whose orders fill at this bar's open); its PnL is the instrument's mark-to-market PnL over the bar, net of fees and funding. <code>none</code> = before the first decision.</p>`,
      '<div id="plot-tiers" class="plot"></div>',
      tierTable(attribution),
    );
  }
  (a.regimeProbabilities ?? []).forEach((r, j) => {
    parts.push(`<h3>${escapeHtml(r.instrument)} <span class="sub">(regime: ${escapeHtml(r.labels.join(', '))})</span></h3>`, `<div id="plot-regime-${j}" class="plot"></div>`);
  });
  parts.push('</section>');
  return parts.join('\n');
}

/** The data the in-page renderer plots. Times are epoch ms; the page converts them to UTC date strings. */
function plotData(result: BacktestResult, metrics: BacktestMetrics) {
  const { ts, value } = result.equity;
  const eqIdx = decimate(value, MAX_LINE_POINTS);
  const dd = drawdownSeries(value);
  const ddIdx = decimate(dd, MAX_LINE_POINTS);
  const returns = simpleReturns(value);
  const window = Math.max(2, Math.round((ROLLING_SHARPE_DAYS * result.periodsPerYear) / 365.25));
  const rolling = rollingSharpe(returns, window, result.periodsPerYear);
  const rollingTs = ts.subarray(1);
  const finiteRolling = rolling.map((x) => (Number.isFinite(x) ? x : 0));
  const rIdx = decimate(finiteRolling, MAX_LINE_POINTS);
  const months = monthlyReturns(ts, value);
  const sources = new Map(result.dataSources.map((d) => [d.instrument, d]));
  const fillsByInstrument = result.instruments.map(() => ({ buy: [] as FillRecord[], sell: [] as FillRecord[] }));
  const index = new Map(result.instruments.map((id, i) => [id, i]));
  for (const f of result.fills) {
    const i = index.get(f.instrument);
    if (i !== undefined) fillsByInstrument[i]![f.side].push(f);
  }
  const markers = (fills: FillRecord[]) => {
    const step = Math.max(1, Math.ceil(fills.length / MAX_LINE_POINTS));
    const kept = step === 1 ? fills : fills.filter((_, k) => k % step === 0);
    return { t: kept.map((f) => f.ts), p: kept.map((f) => r8(f.price)), text: kept.map(markerText), total: fills.length };
  };
  const costs = costsByInstrument(result);
  return {
    equity: { t: Array.from(pick(ts, eqIdx)), v: toList(pick(value, eqIdx)), initialCash: result.initialCash },
    drawdown: { t: Array.from(pick(ts, ddIdx)), v: toList(pick(dd, ddIdx), (x) => r8(x * 100)) },
    candles: result.bars.map((bar, i) => {
      const s = candlesForDisplay(bar, MAX_CANDLES_PER_INSTRUMENT);
      const src = sources.get(result.instruments[i]!);
      const fills = fillsByInstrument[i]!;
      return {
        title: escapePlotlyText(`${result.instruments[i]}${src ? ` — ${src.venue} ${src.symbol} ${src.timeframe}` : ''}${s.bucket > 1 ? ` (${s.bucket} bars per candle for display)` : ''}`),
        t: Array.from(s.t),
        o: toList(s.o),
        h: toList(s.h),
        l: toList(s.l),
        c: toList(s.c),
        buy: markers(fills.buy),
        sell: markers(fills.sell),
      };
    }),
    monthly: {
      years: months.map((r) => String(r.year)),
      z: months.map((r) => r.months.map((m) => (m === null ? null : r8(m * 100)))),
      totals: months.map((r) => r8(r.total * 100)),
    },
    rolling: { window, t: Array.from(pick(rollingTs, rIdx)), v: toList(pick(rolling, rIdx)) },
    costs: {
      instruments: costs.map((c) => escapePlotlyText(c.instrument)),
      fees: costs.map((c) => r8(c.fees)),
      funding: costs.map((c) => r8(c.funding)),
      feesPaid: r8(metrics.feesPaid),
      fundingPaid: r8(metrics.fundingPaid),
    },
    ...(result.annotations !== undefined ? { annotations: annotationPlotData(result) } : {}),
  };
}

/** In-page renderer (plain ES2017, runs offline). Sets `window.__plotsRendered` once every `Plotly.newPlot` resolved. */
const RENDERER_JS = String.raw`(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('report-data').textContent);
  function dates(ms) {
    var out = new Array(ms.length);
    for (var i = 0; i < ms.length; i++) out[i] = new Date(ms[i]).toISOString().slice(0, 19).replace('T', ' ');
    return out;
  }
  var config = { responsive: true, displaylogo: false };
  function layout(extra) {
    var base = {
      margin: { l: 70, r: 30, t: 40, b: 40 },
      font: { family: 'system-ui, -apple-system, Segoe UI, Roboto, sans-serif', size: 12 },
      paper_bgcolor: '#ffffff', plot_bgcolor: '#ffffff', showlegend: false
    };
    for (var k in extra) base[k] = extra[k];
    return base;
  }
  var dateAxis = { type: 'date', gridcolor: '#eeeeee' };
  var plots = [];
  function plot(id, traces, lay) {
    try { plots.push(Plotly.newPlot(id, traces, layout(lay), config)); }
    catch (e) { plots.push(Promise.reject(e)); }
  }

  plot('plot-equity', [{
    type: 'scatter', mode: 'lines', x: dates(data.equity.t), y: data.equity.v, name: 'Equity',
    line: { color: '#1f77b4', width: 1.5 }, hovertemplate: '%{x}<br>%{y:,.2f} USDT<extra></extra>'
  }], {
    height: 360, title: { text: 'Equity (USDT, at bar close)' }, xaxis: dateAxis, yaxis: { gridcolor: '#eeeeee', tickformat: ',.0f' },
    shapes: [{ type: 'line', xref: 'paper', x0: 0, x1: 1, y0: data.equity.initialCash, y1: data.equity.initialCash, line: { color: '#999999', dash: 'dot', width: 1 } }]
  });

  plot('plot-drawdown', [{
    type: 'scatter', mode: 'lines', x: dates(data.drawdown.t), y: data.drawdown.v, name: 'Drawdown', fill: 'tozeroy',
    line: { color: '#d62728', width: 1 }, fillcolor: 'rgba(214,39,40,0.25)', hovertemplate: '%{x}<br>%{y:.2f} %<extra></extra>'
  }], { height: 240, title: { text: 'Drawdown (% below running peak)' }, xaxis: dateAxis, yaxis: { gridcolor: '#eeeeee', ticksuffix: ' %' } });

  data.candles.forEach(function (c, i) {
    plot('plot-candles-' + i, [
      { type: 'candlestick', x: dates(c.t), open: c.o, high: c.h, low: c.l, close: c.c, name: 'OHLC',
        increasing: { line: { color: '#26a69a' } }, decreasing: { line: { color: '#ef5350' } } },
      { type: 'scatter', mode: 'markers', x: dates(c.buy.t), y: c.buy.p, text: c.buy.text, name: 'Buy \u25B2',
        marker: { symbol: 'triangle-up', size: 9, color: '#2e7d32', line: { color: '#ffffff', width: 0.5 } }, hovertemplate: '%{x}<br>%{text}<extra></extra>' },
      { type: 'scatter', mode: 'markers', x: dates(c.sell.t), y: c.sell.p, text: c.sell.text, name: 'Sell \u25BC',
        marker: { symbol: 'triangle-down', size: 9, color: '#c62828', line: { color: '#ffffff', width: 0.5 } }, hovertemplate: '%{x}<br>%{text}<extra></extra>' }
    ], {
      height: 420, title: { text: c.title }, showlegend: true, legend: { orientation: 'h', x: 0, y: 1.08 },
      xaxis: { type: 'date', gridcolor: '#eeeeee', rangeslider: { visible: false } }, yaxis: { gridcolor: '#eeeeee' }
    });
  });

  var monthNames = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  plot('plot-monthly', [{
    type: 'heatmap', x: monthNames.concat(['Year']), y: data.monthly.years,
    z: data.monthly.z.map(function (row, k) { return row.concat([data.monthly.totals[k]]); }),
    colorscale: [[0, '#c62828'], [0.5, '#f7f7f7'], [1, '#2e7d32']], zmid: 0, texttemplate: '%{z:.1f}', hovertemplate: '%{y} %{x}: %{z:.2f} %<extra></extra>',
    colorbar: { ticksuffix: ' %' }, xgap: 2, ygap: 2
  }], {
    height: Math.max(220, 80 + 36 * data.monthly.years.length), title: { text: 'Monthly returns (%, UTC months, compounded)' },
    xaxis: { type: 'category' }, yaxis: { type: 'category', autorange: 'reversed' }
  });

  plot('plot-rolling-sharpe', [{
    type: 'scatter', mode: 'lines', x: dates(data.rolling.t), y: data.rolling.v, name: 'Rolling Sharpe',
    line: { color: '#9467bd', width: 1.2 }, hovertemplate: '%{x}<br>%{y:.2f}<extra></extra>'
  }], {
    height: 300, title: { text: 'Rolling Sharpe (annualised, ' + data.rolling.window + '-bar window)' },
    xaxis: dateAxis, yaxis: { gridcolor: '#eeeeee', zeroline: true, zerolinecolor: '#888888' }
  });

  plot('plot-costs', [
    { type: 'bar', x: data.costs.instruments, y: data.costs.fees, name: 'Fees', marker: { color: '#ff7f0e' }, hovertemplate: '%{x}<br>fees %{y:,.2f} USDT<extra></extra>' },
    { type: 'bar', x: data.costs.instruments, y: data.costs.funding, name: 'Funding', marker: { color: '#17becf' }, hovertemplate: '%{x}<br>funding %{y:,.2f} USDT<extra></extra>' }
  ], {
    height: 320, barmode: 'group', showlegend: true, legend: { orientation: 'h', x: 0, y: 1.1 },
    title: { text: 'Fees and funding paid per instrument (USDT; negative = received)' }, xaxis: { type: 'category' }, yaxis: { gridcolor: '#eeeeee' }
  });

  if (data.annotations && document.getElementById('plot-tiers')) {
    var order = data.annotations.tierOrder;
    plot('plot-tiers', data.annotations.tiers.filter(function (s) { return s.t.length > 0; }).map(function (s) {
      return { type: 'scatter', mode: 'lines', x: dates(s.t), y: s.y, text: s.text, name: s.name, line: { shape: 'hv', width: 2 },
        hovertemplate: '%{x}<br>%{text}<extra></extra>' };
    }), {
      height: 300, title: { text: 'Sizing tier in force (per instrument, offset for readability)' }, showlegend: true, legend: { orientation: 'h', x: 0, y: 1.12 },
      xaxis: dateAxis, yaxis: { gridcolor: '#eeeeee', tickvals: order.map(function (_, k) { return k; }), ticktext: order, range: [-0.5, order.length - 0.5], zeroline: false },
      margin: { l: 130, r: 30, t: 60, b: 40 }
    });
  }

  (data.annotations ? data.annotations.regimes : []).forEach(function (r, j) {
    var traces = r.states.map(function (s) {
      return { type: 'scatter', mode: 'lines', x: dates(r.t), y: s.p, name: s.label, stackgroup: 'regime', line: { width: 0.5, color: s.color },
        fillcolor: s.color, hovertemplate: '%{x}<br>' + s.label + ' %{y:.3f}<extra></extra>' };
    });
    traces.push({ type: 'scatter', mode: 'lines', x: dates(r.price.t), y: r.price.c, name: 'close', yaxis: 'y2', line: { color: '#222222', width: 1.2 },
      hovertemplate: '%{x}<br>close %{y:,.2f}<extra></extra>' });
    plot('plot-regime-' + j, traces, {
      height: 380, title: { text: r.title }, showlegend: true, legend: { orientation: 'h', x: 0, y: 1.12 }, xaxis: dateAxis,
      yaxis: { gridcolor: '#eeeeee', range: [0, 1], title: { text: 'filtered probability' } },
      yaxis2: { overlaying: 'y', side: 'right', title: { text: 'close' }, showgrid: false },
      margin: { l: 70, r: 70, t: 60, b: 40 }
    });
  });

  Promise.all(plots).then(function () {
    window.__plotsRendered = plots.length;
    document.body.setAttribute('data-plots-rendered', String(plots.length));
  }, function (e) {
    window.__plotsError = String((e && e.message) || e);
    console.error('report: a plot failed to render', e);
  });
})();
`;

const CSS = `
  :root { color-scheme: light; }
  body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; padding: 0 24px 48px; color: #222; background: #fafafa; }
  header { padding: 20px 0 8px; border-bottom: 1px solid #ddd; margin-bottom: 16px; }
  h1 { font-size: 22px; margin: 0 0 6px; }
  h2 { font-size: 17px; margin: 28px 0 10px; }
  .sub { color: #555; margin: 2px 0; }
  table { border-collapse: collapse; background: #fff; font-size: 13px; }
  th, td { border: 1px solid #e0e0e0; padding: 4px 8px; text-align: left; white-space: nowrap; }
  th { background: #f3f3f3; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; }
  .metrics-grid { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
  .plot { background: #fff; border: 1px solid #e5e5e5; margin: 8px 0 16px; min-height: 200px; }
  .trades-wrap { max-height: 600px; overflow: auto; border: 1px solid #e0e0e0; }
  pre { background: #fff; border: 1px solid #e0e0e0; padding: 12px; overflow: auto; font-size: 12px; }
  ul.notes li { margin: 2px 0; }
  .pos { color: #1b5e20; } .neg { color: #b71c1c; }
`;

function metricsTables(metrics: BacktestMetrics): string {
  const rows = (Object.keys(METRIC_FORMATS) as (keyof BacktestMetrics)[]).map((key) => {
    const [label, format] = METRIC_FORMATS[key];
    return `<tr><th scope="row">${escapeHtml(label)}</th><td class="num" data-metric="${escapeHtml(key)}">${escapeHtml(formatMetric(metrics[key], format))}</td></tr>`;
  });
  const half = Math.ceil(rows.length / 2);
  return `<div class="metrics-grid"><table class="metrics">${rows.slice(0, half).join('')}</table><table class="metrics">${rows.slice(half).join('')}</table></div>`;
}

function tradesTable(trades: readonly TradeRecord[]): string {
  if (trades.length === 0) return '<p>No closed trades.</p>';
  const shown = trades.length > TRADES_TABLE_LIMIT ? trades.slice(0, TRADES_TABLE_LIMIT) : trades;
  const cut = trades.length > TRADES_TABLE_LIMIT ? `<p class="sub">Showing the first ${fixed(TRADES_TABLE_LIMIT, 0)} of ${fixed(trades.length, 0)} trades (all trades are counted in the metrics).</p>` : `<p class="sub">All ${fixed(trades.length, 0)} trades.</p>`;
  const head = ['#', 'Instrument', 'Direction', 'Entry (UTC)', 'Exit (UTC)', 'Entry price', 'Exit price', 'Quantity', 'PnL (USDT)', 'Fees (USDT)', 'Funding (USDT)', 'Return'];
  const body = shown
    .map((t, k) => {
      const cls = t.pnl > 0 ? 'pos' : t.pnl < 0 ? 'neg' : '';
      const cells = [
        `<td class="num">${k + 1}</td>`,
        `<td>${escapeHtml(t.instrument)}</td>`,
        `<td>${escapeHtml(t.direction)}</td>`,
        `<td>${escapeHtml(isoMinute(t.entryTs))}</td>`,
        `<td>${escapeHtml(isoMinute(t.exitTs))}</td>`,
        `<td class="num">${escapeHtml(formatQuantity(t.entryPrice))}</td>`,
        `<td class="num">${escapeHtml(formatQuantity(t.exitPrice))}</td>`,
        `<td class="num">${escapeHtml(formatQuantity(t.quantity))}</td>`,
        `<td class="num ${cls}">${escapeHtml(fixed(t.pnl, 2))}</td>`,
        `<td class="num">${escapeHtml(fixed(t.fees, 2))}</td>`,
        `<td class="num">${escapeHtml(fixed(t.funding, 2))}</td>`,
        `<td class="num ${cls}">${escapeHtml(fixed(t.returnPct * 100, 2))} %</td>`,
      ];
      return `<tr>${cells.join('')}</tr>`;
    })
    .join('\n');
  return `${cut}<div class="trades-wrap"><table id="trades-table"><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>\n${body}\n</tbody></table></div>`;
}

/**
 * Returns one standalone HTML page for `result`, viewable offline: the plotly.js bundle inlined once, then plots with
 * stable div ids (see {@link plotIds}): equity, drawdown, candlesticks per instrument with fills as buy ▲ / sell ▼
 * markers, monthly-returns heatmap, rolling Sharpe ({@link ROLLING_SHARPE_DAYS} days of bars), fees and funding per
 * instrument; plus tables of metrics, notes, data sources, trades (first {@link TRADES_TABLE_LIMIT}) and the config.
 * The page sets `window.__plotsRendered` to the number of plots once every `Plotly.newPlot` promise resolved (or
 * `window.__plotsError` if one failed). All inserted text is escaped. Output is deterministic for identical inputs.
 * @throws ReportError `plotly_bundle_missing` when plotly.js-dist-min cannot be resolved or read.
 */
export function renderHtmlReport(result: BacktestResult, metrics: BacktestMetrics): string {
  invariant(result.bars.length === result.instruments.length, `result.bars must have one entry per instrument, had ${result.bars.length} for ${result.instruments.length} instruments`, {
    bars: result.bars.length,
    instruments: result.instruments.length,
  });
  const bundle = readPlotlyBundle();
  const data = plotData(result, metrics);
  const ids = plotIds(result);
  const sources = new Map(result.dataSources.map((d) => [d.instrument, d]));
  const candleSections = result.instruments
    .map((id, i) => {
      const src = sources.get(id);
      const fills = result.fills.filter((f) => f.instrument === id).length;
      return `<h3>${escapeHtml(id)}${src ? ` <span class="sub">(${escapeHtml(`${src.venue} ${src.symbol} ${src.timeframe}`)})</span>` : ''}</h3>
<p class="sub">${fixed(barCount(result.bars[i]), 0)} bars, ${fixed(fills, 0)} fills (▲ buy, ▼ sell).</p>
<div id="${escapeHtml(ids[2 + i]!)}" class="plot"></div>`;
    })
    .join('\n');
  const notes = result.notes.length > 0 ? `<ul class="notes">${result.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>` : '<p>No notes: no fallbacks, substitutions or liquidations were recorded.</p>';
  const sourceRows = result.dataSources
    .map((d) => `<tr><td>${escapeHtml(d.instrument)}</td><td>${escapeHtml(d.venue)}</td><td>${escapeHtml(d.symbol)}</td><td>${escapeHtml(d.timeframe)}</td><td>${escapeHtml(d.note ?? '')}</td></tr>`)
    .join('');
  const period = `${isoMinute(metrics.startMs)} → ${isoMinute(metrics.endMs)} (${fixed(metrics.years, 2)} years, ${fixed(metrics.bars, 0)} bars of ${result.timeframe})`;
  const configJson = JSON.stringify(canonicalJson(result.config, 'config', new Set()), null, 2);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(`Backtest report — ${result.name}`)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>${escapeHtml(result.name)}</h1>
<p class="sub">${escapeHtml(period)}</p>
<p class="sub">Instruments: ${escapeHtml(result.instruments.join(', '))} · initial cash ${escapeHtml(fixed(result.initialCash, 2))} USDT · seed ${escapeHtml(String(result.seed))}</p>
</header>
<section id="metrics">
<h2>Metrics</h2>
${metricsTables(metrics)}
<p class="sub">Returns are per-bar simple returns of the equity curve; annualisation uses ${escapeHtml(String(result.periodsPerYear))} bars per year and years of ${escapeHtml(fixed(YEAR_MS / 86_400_000, 2))} days; risk-free rate 0. Sharpe uses the sample standard deviation; Sortino's downside deviation is sqrt(mean(min(r, 0)²)) over all bars. K-ratio: Kestner (2003), slope / standard error of ln(equity) on bar index, divided by sqrt(bars). n/a = undefined for this run (e.g. profit factor without a losing trade).</p>
</section>
<section id="notes">
<h2>Notes</h2>
${notes}
</section>
<section id="data-sources">
<h2>Data sources</h2>
${result.dataSources.length > 0 ? `<table><thead><tr><th>Instrument</th><th>Venue</th><th>Symbol</th><th>Timeframe</th><th>Note</th></tr></thead><tbody>${sourceRows}</tbody></table>` : '<p>No data sources recorded.</p>'}
</section>
<section id="charts">
<h2>Equity and drawdown</h2>
<div id="plot-equity" class="plot"></div>
<div id="plot-drawdown" class="plot"></div>
<h2>Prices and fills</h2>
${candleSections}
<h2>Monthly returns</h2>
<div id="plot-monthly" class="plot"></div>
<h2>Rolling Sharpe</h2>
<div id="plot-rolling-sharpe" class="plot"></div>
<h2>Costs</h2>
<p class="sub">Fees ${escapeHtml(fixed(metrics.feesPaid, 2))} USDT, funding ${escapeHtml(fixed(metrics.fundingPaid, 2))} USDT in total.</p>
<div id="plot-costs" class="plot"></div>
</section>
${annotationSection(result, ids)}
<section id="trades">
<h2>Trades</h2>
${tradesTable(result.trades)}
</section>
<section id="config">
<h2>Run configuration</h2>
<pre>${escapeHtml(configJson)}</pre>
</section>
<script>
${scriptSafe(bundle)}
</script>
<script type="application/json" id="report-data">${jsonForScript(data)}</script>
<script>
${RENDERER_JS}</script>
</body>
</html>
`;
}

// ---------------------------------------------------------------------------------------------------------------
// Files

/** Writes `text` to `path` through a temp file in the same folder and a rename, so readers never see a partial file. */
async function writeFileAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, text, 'utf8');
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw new ReportError('io', `cannot write ${path}: ${(e as Error).message}`, { path }, { cause: e });
  }
}

/**
 * Computes metrics (unless given) and writes `summary.json` (the {@link summarize} output, 2-space indented, trailing
 * newline) and `report.html` ({@link renderHtmlReport}) into `dir`, creating it if needed; each file is written to a
 * temp file and renamed into place. Returns the absolute paths.
 * @throws ReportError `io` when the folder or a file cannot be written; `plotly_bundle_missing` (see {@link renderHtmlReport}).
 * @throws InvariantError / MetricsError from {@link computeMetrics} for a corrupt result.
 * @example
 * const { htmlPath } = await writeReport('runs/2024-06-01-momentum', result);
 */
export async function writeReport(dir: string, result: BacktestResult, metrics: BacktestMetrics = computeMetrics(result)): Promise<ReportPaths> {
  const root = resolve(dir);
  const summaryText = `${JSON.stringify(summarize(result, metrics), null, 2)}\n`;
  const html = renderHtmlReport(result, metrics);
  try {
    await mkdir(root, { recursive: true });
  } catch (e) {
    throw new ReportError('io', `cannot create report folder ${root}: ${(e as Error).message}`, { path: root }, { cause: e });
  }
  const summaryPath = join(root, 'summary.json');
  const htmlPath = join(root, 'report.html');
  await writeFileAtomic(summaryPath, summaryText);
  await writeFileAtomic(htmlPath, html);
  return { summaryPath, htmlPath };
}
