import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { BacktestResult, FillRecord, TradeRecord } from './backtest-result.js';
import { computeMetrics } from './metrics.js';
import { escapeHtml, plotIds, renderHtmlReport, summarize, TRADES_TABLE_LIMIT, writeReport } from './report.js';

const H4 = 4 * 3_600_000;
const T0 = Date.UTC(2024, 0, 1);
const EVIL = '<script>alert("x")</script>&<img src=x onerror=alert(1)>';

/** A small deterministic result: `instruments.length` instruments × `n` 4h bars, one fill pair and trade per 10 bars. */
function makeResult(n = 60, overrides: Partial<BacktestResult> = {}): BacktestResult {
  const instruments = ['BTCUSDT-LINEAR.BYBIT', 'ETHUSDT-LINEAR.BYBIT'];
  const ts = Float64Array.from({ length: n }, (_, i) => T0 + i * H4);
  const equity = Float64Array.from({ length: n }, (_, i) => 10_000 * (1 + 0.001 * i + 0.01 * Math.sin(i / 3)));
  const bars = instruments.map((_, s) => {
    const close = Float64Array.from({ length: n }, (_, i) => (s + 1) * 1000 * (1 + 0.02 * Math.sin(i / 5 + s)));
    const open = Float64Array.from({ length: n }, (_, i) => (i === 0 ? close[0]! : close[i - 1]!));
    return {
      ts,
      open,
      high: Float64Array.from({ length: n }, (_, i) => Math.max(open[i]!, close[i]!) * 1.005),
      low: Float64Array.from({ length: n }, (_, i) => Math.min(open[i]!, close[i]!) * 0.995),
      close,
      position: Float64Array.from({ length: n }, (_, i) => (Math.floor(i / 10) % 2 === 0 ? 0.5 : 0)),
    };
  });
  const fills: FillRecord[] = [];
  const trades: TradeRecord[] = [];
  for (let i = 0; i + 5 < n; i += 10) {
    for (let s = 0; s < instruments.length; s++) {
      const px = bars[s]!.close;
      fills.push({ ts: ts[i]!, instrument: instruments[s]!, clientOrderId: `o-${s}-${i}-in`, side: 'buy', quantity: 0.5, price: px[i]!, fee: 0.3, liquidity: 'taker' });
      fills.push({ ts: ts[i + 5]!, instrument: instruments[s]!, clientOrderId: `o-${s}-${i}-out`, side: 'sell', quantity: 0.5, price: px[i + 5]!, fee: 0.3, liquidity: 'maker' });
      const pnl = (px[i + 5]! - px[i]!) * 0.5 - 0.6;
      trades.push({ instrument: instruments[s]!, direction: 'long', entryTs: ts[i]!, exitTs: ts[i + 5]!, entryPrice: px[i]!, exitPrice: px[i + 5]!, quantity: 0.5, pnl, fees: 0.6, funding: 0, returnPct: pnl / (px[i]! * 0.5) });
    }
  }
  return {
    name: 'unit fixture',
    instruments,
    dataSources: [
      { instrument: instruments[0]!, venue: 'bybit', symbol: 'BTCUSDT', timeframe: '4h' },
      { instrument: instruments[1]!, venue: 'binance', symbol: 'ETHUSDT', timeframe: '4h', note: 'Binance spot prices with Bybit rules' },
    ],
    timeframe: '4h',
    periodsPerYear: 2190,
    initialCash: 10_000,
    equity: { ts: Float64Array.from(ts, (t) => t + H4), value: equity },
    bars,
    fills,
    trades,
    funding: [{ ts: T0 + 8 * 3_600_000, instrument: instruments[0]!, rate: 0.0001, markPrice: 1000, position: 0.5, payment: 0.05, source: 'fallback' }],
    notes: ['funding fallback for BTCUSDT-LINEAR.BYBIT: 1 settlement'],
    turnoverNotional: fills.reduce((a, f) => a + f.quantity * f.price, 0),
    feesPaid: fills.reduce((a, f) => a + f.fee, 0),
    fundingPaid: 0.05,
    positions: instruments.map((instrument, s) => ({ instrument, quantity: bars[s]!.position.at(-1)!, entryPrice: bars[s]!.close.at(-1)!, realizedPnl: 0, fees: 0, funding: 0 })),
    liquidations: 0,
    seed: 42,
    config: { strategy: { lookback: 20, name: 'momentum' }, leverage: 2, cap: Infinity, skip: undefined },
    ...overrides,
  };
}

const occurrences = (haystack: string, needle: string): number => haystack.split(needle).length - 1;

describe('summarize', () => {
  it('is byte-identical across calls and independent of config key insertion order', () => {
    const a = makeResult();
    const b = makeResult(60, { config: { skip: undefined, cap: Infinity, leverage: 2, strategy: { name: 'momentum', lookback: 20 } } });
    const s1 = JSON.stringify(summarize(a, computeMetrics(a)));
    const s2 = JSON.stringify(summarize(a, computeMetrics(a)));
    const s3 = JSON.stringify(summarize(b, computeMetrics(b)));
    expect(s1).toBe(s2);
    expect(s1).toBe(s3);
  });

  it('has a fixed top-level key order and JSON-safe values', () => {
    const r = makeResult();
    const s = summarize(r, computeMetrics(r));
    expect(Object.keys(s)).toEqual(['schemaVersion', 'name', 'instruments', 'dataSources', 'period', 'seed', 'config', 'initialCash', 'metrics', 'counts', 'costs', 'notes']);
    expect(s.config).toEqual({ cap: 'Infinity', leverage: 2, strategy: { lookback: 20, name: 'momentum' } });
    expect(s.dataSources.map((d) => d.note)).toEqual([null, 'Binance spot prices with Bybit rules']);
    expect(s.period.start).toBe('2024-01-01T04:00:00.000Z');
    expect(s.counts).toEqual({ equitySamples: 60, fills: 24, trades: 12, fundingPayments: 1, fundingFallbackPayments: 1, liquidations: 0, notes: 1 });
    expect(s.costs.byInstrument.map((c) => [c.instrument, c.fills, c.trades])).toEqual([
      ['BTCUSDT-LINEAR.BYBIT', 12, 6],
      ['ETHUSDT-LINEAR.BYBIT', 12, 6],
    ]);
    expect(s.costs.byInstrument[0]!.funding).toBe(0.05);
    // Round trip through JSON changes nothing (no NaN/Infinity/undefined left).
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
  });

  it('rounds metrics to 10 significant digits and keeps integers and nulls exact', () => {
    const r = makeResult();
    const m = computeMetrics(r);
    const s = summarize(r, m);
    expect(s.metrics.sharpe).toBe(Number(m.sharpe!.toPrecision(10)));
    expect(s.metrics.totalReturn).toBe(Number(m.totalReturn.toPrecision(10)));
    expect(s.metrics.startMs).toBe(m.startMs);
    expect(s.metrics.tradeCount).toBe(12);
    const noTrades = makeResult(60, { trades: [] });
    expect(summarize(noTrades, computeMetrics(noTrades)).metrics.winRate).toBeNull();
    expect(Object.keys(s.metrics).sort()).toEqual(Object.keys(m).sort());
  });
});

describe('renderHtmlReport', () => {
  // Rendered inside each test: a render that throws must fail the tests, not the collection of this file.
  const render = () => {
    const result = makeResult();
    return { result, html: renderHtmlReport(result, computeMetrics(result)) };
  };

  it('contains every plot div id exactly once', () => {
    const { result, html } = render();
    const ids = plotIds(result);
    expect(ids).toEqual(['plot-equity', 'plot-drawdown', 'plot-candles-0', 'plot-candles-1', 'plot-monthly', 'plot-rolling-sharpe', 'plot-costs']);
    for (const id of ids) expect(occurrences(html, `<div id="${id}" class="plot">`), id).toBe(1);
    expect(occurrences(html, 'class="plot"')).toBe(ids.length);
  });

  it('inlines the plotly bundle exactly once and loads nothing from the network', () => {
    const { html } = render();
    const bundle = readFileSync(createRequire(import.meta.url).resolve('plotly.js-dist-min'), 'utf8');
    expect(occurrences(html, bundle.slice(0, 2000))).toBe(1);
    expect(occurrences(html, bundle.slice(-2000))).toBe(1);
    expect(occurrences(html, '<script')).toBe(3);
    expect(/<script[^>]+src=/.test(html)).toBe(false);
    expect(/<link[^>]+href=/.test(html)).toBe(false);
    expect(html.includes('window.__plotsRendered = plots.length')).toBe(true);
  });

  it('is deterministic', () => {
    const { result, html } = render();
    expect(renderHtmlReport(result, computeMetrics(result))).toBe(html);
  });

  it('shows the metrics, notes, data sources and all trades', () => {
    const { html } = render();
    expect(html.includes('data-metric="sharpe"')).toBe(true);
    expect(html.includes('funding fallback for BTCUSDT-LINEAR.BYBIT: 1 settlement')).toBe(true);
    expect(html.includes('Binance spot prices with Bybit rules')).toBe(true);
    expect(html.includes('All 12 trades.')).toBe(true);
    expect(occurrences(html.slice(html.indexOf('id="trades-table"')), '<tr>')).toBe(13); // header + 12
  });

  it('escapes all text it inserts', () => {
    const instruments = [EVIL, 'ETHUSDT-LINEAR.BYBIT'];
    const base = makeResult();
    const evil = makeResult(60, {
      name: EVIL,
      instruments,
      dataSources: [{ instrument: EVIL, venue: EVIL, symbol: EVIL, timeframe: '4h', note: EVIL }],
      notes: [EVIL, 'a & b'],
      fills: base.fills.map((f) => ({ ...f, instrument: f.instrument === base.instruments[0] ? EVIL : f.instrument, clientOrderId: EVIL })),
      trades: base.trades.map((t) => ({ ...t, instrument: EVIL })),
      config: { [EVIL]: EVIL },
    });
    const out = renderHtmlReport(evil, computeMetrics(evil));
    expect(out.includes('<script>alert')).toBe(false);
    expect(out.includes('<img src=x')).toBe(false);
    expect(out.includes('</script>&')).toBe(false);
    expect(out.includes(escapeHtml(EVIL))).toBe(true);
    expect(out).toContain('<li>a &amp; b</li>');
    expect(occurrences(out, '<script')).toBe(3);
    expect(occurrences(out, '</script>')).toBe(3);
    // The plot payload carries Plotly-escaped text (&lt;) with <, >, & as \u escapes inside the JSON script.
    expect(out.includes('\\u0026lt;script\\u0026gt;alert')).toBe(true);
  });

  it('lists the first 2,000 trades and says so when there are more', () => {
    const base = makeResult();
    const t = base.trades[0]!;
    const many = makeResult(60, { trades: Array.from({ length: TRADES_TABLE_LIMIT + 5 }, (_, k) => ({ ...t, pnl: k % 2 === 0 ? 1 : -1 })) });
    const out = renderHtmlReport(many, computeMetrics(many));
    expect(out.includes('Showing the first 2,000 of 2,005 trades')).toBe(true);
    const table = out.slice(out.indexOf('id="trades-table"'), out.indexOf('</table>', out.indexOf('id="trades-table"')));
    expect(occurrences(table, '<tr>')).toBe(TRADES_TABLE_LIMIT + 1);
  });

  it('rejects bars that do not match the instruments', () => {
    const r = makeResult();
    expect(() => renderHtmlReport({ ...r, bars: r.bars.slice(1) }, computeMetrics(r))).toThrow(/one entry per instrument, had 1 for 2 instruments/);
    expect(() => renderHtmlReport({ ...r, bars: r.bars.slice(1) }, computeMetrics(r))).toThrow(expect.objectContaining({ code: 'invariant', context: { bars: 1, instruments: 2 } }));
  });
});

describe('writeReport', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tm-report-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes summary.json and report.html atomically and returns their paths', async () => {
    const r = makeResult();
    const out = join(dir, 'nested', 'run');
    const paths = await writeReport(out, r);
    expect(paths).toEqual({ summaryPath: join(out, 'summary.json'), htmlPath: join(out, 'report.html') });
    const text = readFileSync(paths.summaryPath, 'utf8');
    expect(text).toBe(`${JSON.stringify(summarize(r, computeMetrics(r)), null, 2)}\n`);
    expect(existsSync(paths.htmlPath)).toBe(true);
    expect(readdirSync(out).sort()).toEqual(['report.html', 'summary.json']); // no temp files left
    // Rewriting gives identical bytes.
    await writeReport(out, r);
    expect(readFileSync(paths.summaryPath, 'utf8')).toBe(text);
  });

  it('fails with a typed io error when the folder cannot be created', async () => {
    const r = makeResult();
    const blocker = join(dir, 'file');
    await writeReport(join(dir, 'ok'), r);
    const { writeFileSync } = await import('node:fs');
    writeFileSync(blocker, 'x');
    await expect(writeReport(join(blocker, 'sub'), r)).rejects.toMatchObject({ name: 'ReportError', code: 'io' });
  });
});
