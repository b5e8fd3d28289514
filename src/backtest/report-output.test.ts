import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { BacktestResult, FillRecord } from './backtest-result.js';
import type { BacktestMetrics } from './metrics.js';
import { escapeHtml, jsonForScript, plotIds, readPlotlyBundle, renderHtmlReport, ReportError, scriptSafe, summarize, writeReport } from './report.js';

/** The text of `html` from `start` (included) up to the next `end` after it (excluded). */
function between(html: string, start: string, end: string): string {
  const i = html.indexOf(start);
  expect(i, start).toBeGreaterThanOrEqual(0);
  return html.slice(i, html.indexOf(end, i + start.length));
}

/** The plot payload of the page (the `report-data` JSON script). */
function reportData(html: string): Record<string, unknown> {
  const open = '<script type="application/json" id="report-data">';
  return JSON.parse(between(html, open, '</script>').slice(open.length)) as Record<string, unknown>;
}


const DAY = 86_400_000;
/** Bar opens: 2023-12-30, 2023-12-31, 2024-01-01, 2024-01-02 (daily); equity at the closes one day later. */
const T0 = Date.UTC(2023, 11, 30);
const A = 'AAA-LINEAR.X';
const B = 'BBB-LINEAR.X';
const SHARED = { y: 'same object twice, no cycle' };

/** Two instruments × 4 daily bars with hand-picked prices, fills, trades, funding, tiers and regimes. */
function tinyResult(overrides: Partial<BacktestResult> = {}): BacktestResult {
  const ts = Float64Array.from([T0, T0 + DAY, T0 + 2 * DAY, T0 + 3 * DAY]);
  return {
    name: 'tiny <run> & co',
    instruments: [A, B],
    dataSources: [
      { instrument: A, venue: 'bybit', symbol: 'AAAUSDT', timeframe: '1d' },
      { instrument: B, venue: 'binance', symbol: 'BBBUSDT', timeframe: '1d', note: 'spot prices' },
    ],
    timeframe: '1d',
    periodsPerYear: 365,
    initialCash: 1000,
    equity: { ts: Float64Array.from(ts, (t) => t + DAY), value: Float64Array.from([1000, 1100, 990, 1089]) },
    bars: [
      {
        ts,
        open: Float64Array.from([10, 11, 12, 11]),
        high: Float64Array.from([11.5, 12.5, 12.25, 13]),
        low: Float64Array.from([9.5, 10.75, 10.5, 10.25]),
        close: Float64Array.from([11, 12, 11, 12.5]),
        position: Float64Array.from([2, 2, 0, 0]),
        pnl: Float64Array.from([2, 4, 2, 2]),
      },
      {
        ts,
        open: Float64Array.from([100, 101, 99, 98]),
        high: Float64Array.from([102, 103, 100, 99]),
        low: Float64Array.from([99, 98, 97, 96]),
        close: Float64Array.from([101, 99, 98, 97]),
        position: Float64Array.from([0, -1, -1, 0]),
        pnl: Float64Array.from([0, 0, 1, 2]),
      },
    ],
    fills: [
      { ts: T0, instrument: A, clientOrderId: 'a-in', side: 'buy', quantity: 2, price: 10, fee: 0.5, liquidity: 'taker' },
      { ts: T0 + DAY, instrument: B, clientOrderId: 'b-in', side: 'sell', quantity: 1, price: 101, fee: 0.25, liquidity: 'maker' },
      { ts: T0 + 2 * DAY, instrument: A, clientOrderId: 'a-out', side: 'sell', quantity: 2, price: 12, fee: 0.5, liquidity: 'taker', reason: 'liquidation' },
      { ts: T0 + 3 * DAY, instrument: B, clientOrderId: 'b-out', side: 'buy', quantity: 1, price: 98, fee: 0.25, liquidity: 'taker' },
      { ts: T0 + 3 * DAY, instrument: 'ZZZ-LINEAR.X', clientOrderId: 'stray', side: 'buy', quantity: 1, price: 1, fee: 7, liquidity: 'taker' },
    ],
    trades: [
      { instrument: A, direction: 'long', entryTs: T0, exitTs: T0 + 2 * DAY, entryPrice: 10, exitPrice: 12, quantity: 2, pnl: 2.5, fees: 1, funding: 0.5, returnPct: 0.125 },
      { instrument: B, direction: 'short', entryTs: T0 + DAY, exitTs: T0 + 3 * DAY, entryPrice: 101, exitPrice: 98, quantity: 1, pnl: -1234.5, fees: 0.5, funding: -0.25, returnPct: -0.05 },
      { instrument: B, direction: 'long', entryTs: T0 + 3 * DAY, exitTs: T0 + 3 * DAY, entryPrice: 98, exitPrice: 98, quantity: 1, pnl: 0, fees: 0, funding: 0, returnPct: 0 },
      { instrument: 'ZZZ-LINEAR.X', direction: 'long', entryTs: T0, exitTs: T0, entryPrice: 1, exitPrice: 1, quantity: 1, pnl: 0, fees: 0, funding: 0, returnPct: 0 },
    ],
    funding: [
      { ts: T0 + DAY, instrument: A, rate: 0.0001, markPrice: 11, position: 2, payment: 0.5, source: 'table' },
      { ts: T0 + 2 * DAY, instrument: B, rate: 0.0001, markPrice: 99, position: -1, payment: -0.25, source: 'fallback' },
      { ts: T0 + 2 * DAY, instrument: 'ZZZ-LINEAR.X', rate: 0.0001, markPrice: 1, position: 1, payment: 9, source: 'fallback' },
    ],
    notes: ['note <one>', 'note two'],
    turnoverNotional: 1.1 + 2.2,
    feesPaid: 1.5,
    fundingPaid: 0.25,
    positions: [
      { instrument: A, quantity: 0, entryPrice: 0, realizedPnl: 4, fees: 1, funding: 0.5 },
      { instrument: B, quantity: 0, entryPrice: 0, realizedPnl: 3, fees: 0.5, funding: -0.25 },
    ],
    liquidations: 1,
    seed: 7,
    config: {
      z: 1,
      a: { d: [1, 2n, undefined, NaN, () => 0, Symbol('s')], c: new Date(T0) },
      dv: new DataView(new ArrayBuffer(2)),
      m: new Map<string, unknown>([['k2', -Infinity], ['k1', null]]),
      t: Float64Array.from([1.5, 2]),
      big: BigInt64Array.from([3n]),
      twice: [SHARED, SHARED],
      fn: () => 1,
      sym: Symbol('x'),
      skip: undefined,
      on: true,
    },
    annotations: {
      tiers: [
        { instrument: A, ts: T0 + DAY, tier: 'PURE_KELLY', reason: 'no_rl_sizer' },
        { instrument: A, ts: T0 + DAY, tier: 'PURE_KELLY', reason: 'again' },
        { instrument: B, ts: T0 + 2 * DAY, tier: 'CUSTOM<x>', reason: 'r&d' },
        { instrument: A, ts: T0 + 2 * DAY, tier: 'FULL_RL', reason: 'rl' },
      ],
      regimeProbabilities: [
        { instrument: B, labels: ['bear', 'bull', 'odd'], ts: Float64Array.from([T0 + DAY, T0 + 2 * DAY]), probabilities: [Float64Array.from([0.25, 0.5]), Float64Array.from([0.75, 0.125]), Float64Array.from([0, 0.375])] },
        { instrument: 'ZZZ-LINEAR.X', labels: ['crisis', 'neutral'], ts: Float64Array.from([T0 + DAY]), probabilities: [Float64Array.from([1 / 3]), Float64Array.from([2 / 3])] },
      ],
    },
    ...overrides,
  };
}

/** Hand-made metrics covering every display format, with negatives, thousands and n/a. */
const METRICS: BacktestMetrics = {
  totalReturn: 0.089,
  cagr: -0.123456,
  annualVolatility: null,
  sharpe: 1.2345678901234,
  sortino: Infinity,
  calmar: -0.0004,
  maxDrawdown: -0.1,
  maxDrawdownDurationBars: 1234,
  maxDrawdownDurationDays: 1.25,
  maxDrawdownRecovered: false,
  kRatio: null,
  tradeCount: 4,
  winRate: 0.25,
  profitFactor: null,
  grossProfit: 2.5,
  grossLoss: -1234.5,
  fillCount: 5,
  turnoverNotional: 12_345_678_901,
  turnover: 3.456,
  annualTurnover: -0,
  exposure: 1,
  feesPaid: 1.5,
  fundingPaid: -0.004,
  liquidations: 1,
  initialEquity: 1000,
  finalEquity: 1089,
  startMs: T0 + DAY,
  endMs: T0 + 4 * DAY,
  years: 3 / 365.25,
  bars: 4,
};

/**
 * The page for {@link tinyResult}, rendered inside each test (not once at load time: a render that throws must fail
 * the tests, not the collection of this file).
 */
const tinyHtml = (): string => renderHtmlReport(tinyResult(), METRICS);

describe('summarize (exact output for a small hand-made run)', () => {
  it('writes every field: sources, period, sorted config, rounded metrics, counts, costs per instrument, tiers and notes', () => {
    const s = summarize(tinyResult(), METRICS);
    const zeroTier = (tier: string) => ({ tier, bars: 0, timeFraction: 0, pnl: 0 });
    expect(s).toEqual({
      schemaVersion: 1,
      name: 'tiny <run> & co',
      instruments: [A, B],
      dataSources: [
        { instrument: A, venue: 'bybit', symbol: 'AAAUSDT', timeframe: '1d', note: null },
        { instrument: B, venue: 'binance', symbol: 'BBBUSDT', timeframe: '1d', note: 'spot prices' },
      ],
      period: { start: '2023-12-31T00:00:00.000Z', end: '2024-01-03T00:00:00.000Z', startMs: T0 + DAY, endMs: T0 + 4 * DAY, years: 0.008213552361, timeframe: '1d', periodsPerYear: 365 },
      seed: 7,
      // Keys sorted recursively; undefined/function/symbol members dropped (null inside arrays); Date as ISO,
      // bigints and non-finite numbers as strings; Maps as objects; typed arrays as arrays.
      config: {
        a: { c: '2023-12-30T00:00:00.000Z', d: [1, '2', null, 'NaN', null, null] },
        big: ['3'],
        dv: {}, // a DataView is not a list of numbers
        m: { k1: null, k2: '-Infinity' },
        on: true,
        t: [1.5, 2],
        twice: [{ y: 'same object twice, no cycle' }, { y: 'same object twice, no cycle' }],
        z: 1,
      },
      initialCash: 1000,
      metrics: {
        ...METRICS,
        sharpe: 1.23456789, // 10 significant digits
        annualTurnover: 0, // -0 written as 0
        years: 0.008213552361,
        turnoverNotional: 12_345_678_901, // an integer keeps all its digits
      },
      counts: { equitySamples: 4, fills: 5, trades: 4, fundingPayments: 3, fundingFallbackPayments: 2, liquidations: 1, notes: 2 },
      costs: {
        feesPaid: 1.5,
        fundingPaid: 0.25,
        turnoverNotional: 3.3, // 1.1 + 2.2 = 3.3000000000000003 rounded
        // The stray ZZZ fill, trade and funding payment belong to no instrument of the run and are left out.
        byInstrument: [
          { instrument: A, fees: 1, funding: 0.5, fills: 2, trades: 1 },
          { instrument: B, fees: 0.5, funding: -0.25, fills: 2, trades: 2 },
        ],
      },
      // A: none (bar 0, pnl +2), PURE_KELLY (bar 1, +2), FULL_RL (bars 2-3, -2 + 0); B: none (bars 0-1, 0), CUSTOM<x> (bars 2-3, +1 +1).
      tierAttribution: {
        tierChanges: 4,
        total: [
          { tier: 'FULL_RL', bars: 2, timeFraction: 0.25, pnl: -2 },
          zeroTier('BLENDED'),
          { tier: 'PURE_KELLY', bars: 1, timeFraction: 0.125, pnl: 2 },
          zeroTier('EMERGENCY_FLAT'),
          { tier: 'CUSTOM<x>', bars: 2, timeFraction: 0.25, pnl: 2 },
          { tier: 'none', bars: 3, timeFraction: 0.375, pnl: 2 },
        ],
        byInstrument: [
          {
            instrument: A,
            tiers: [
              { tier: 'FULL_RL', bars: 2, timeFraction: 0.5, pnl: -2 },
              zeroTier('BLENDED'),
              { tier: 'PURE_KELLY', bars: 1, timeFraction: 0.25, pnl: 2 },
              zeroTier('EMERGENCY_FLAT'),
              zeroTier('CUSTOM<x>'),
              { tier: 'none', bars: 1, timeFraction: 0.25, pnl: 2 },
            ],
          },
          {
            instrument: B,
            tiers: [zeroTier('FULL_RL'), zeroTier('BLENDED'), zeroTier('PURE_KELLY'), zeroTier('EMERGENCY_FLAT'), { tier: 'CUSTOM<x>', bars: 2, timeFraction: 0.5, pnl: 2 }, { tier: 'none', bars: 2, timeFraction: 0.5, pnl: 0 }],
          },
        ],
      },
      notes: ['note <one>', 'note two'],
    });
    expect(Object.is(s.metrics.annualTurnover, 0)).toBe(true);
    expect(Object.keys(s.metrics)).toEqual(Object.keys(METRICS));
  });

  it('writes tier PnL as null when the bars carry no PnL column', () => {
    const r = tinyResult();
    const s = summarize({ ...r, bars: r.bars.map(({ pnl: _pnl, ...bar }) => bar) }, METRICS);
    expect(s.tierAttribution?.total.map((t) => [t.tier, t.pnl])).toEqual([
      ['FULL_RL', null],
      ['BLENDED', null],
      ['PURE_KELLY', null],
      ['EMERGENCY_FLAT', null],
      ['CUSTOM<x>', null],
      ['none', null],
    ]);
  });

  it('counts 0 tier changes and omits the block without tier annotations', () => {
    expect('tierAttribution' in summarize(tinyResult({ annotations: undefined }), METRICS)).toBe(false);
    expect('tierAttribution' in summarize(tinyResult({ annotations: { regimeProbabilities: [] } }), METRICS)).toBe(false);
  });

  it('rejects a config with a cycle, naming where it closes', () => {
    const a: Record<string, unknown> = { x: 1 };
    a['self'] = { back: a };
    expect(() => summarize(tinyResult({ config: { a } }), METRICS)).toThrow('config must not contain cycles, was cyclic at config.a.self.back');
    expect(() => summarize(tinyResult({ config: { a } }), METRICS)).toThrow(expect.objectContaining({ code: 'invariant', context: { path: 'config.a.self.back' } }));
    const list: unknown[] = [];
    list.push(list);
    expect(() => summarize(tinyResult({ config: { list } }), METRICS)).toThrow('was cyclic at config.list[0]');
    expect(() => renderHtmlReport(tinyResult({ config: { list } }), METRICS)).toThrow('config must not contain cycles, was cyclic at config.list[0]');
  });
});

describe('renderHtmlReport (exact output for a small hand-made run)', () => {
  it('writes the title and header: escaped name, period, instruments, initial cash and seed', () => {
    const TINY_HTML = tinyHtml();
    expect(between(TINY_HTML, '<title>', '</title>')).toBe('<title>Backtest report — tiny &lt;run&gt; &amp; co');
    expect(between(TINY_HTML, '<header>', '</header>')).toBe(`<header>
<h1>tiny &lt;run&gt; &amp; co</h1>
<p class="sub">2023-12-31 00:00 UTC → 2024-01-03 00:00 UTC (0.01 years, 4 bars of 1d)</p>
<p class="sub">Instruments: AAA-LINEAR.X, BBB-LINEAR.X · initial cash 1,000.00 USDT · seed 7</p>
`);
    expect(between(TINY_HTML, '<style>', '</style>')).toContain('td.num { text-align: right;');
  });

  it('lists every metric with its label and unit in two tables (15 rows each)', () => {
    const TINY_HTML = tinyHtml();
    const row = (label: string, key: string, text: string) => `<tr><th scope="row">${label}</th><td class="num" data-metric="${key}">${text}</td></tr>`;
    const first = [
      row('Total return', 'totalReturn', '8.90 %'),
      row('CAGR (365.25-day years)', 'cagr', '-12.35 %'),
      row('Annualised volatility', 'annualVolatility', 'n/a'),
      row('Sharpe ratio (annualised, risk-free 0)', 'sharpe', '1.235'),
      row('Sortino ratio (annualised, target 0)', 'sortino', 'Infinity'),
      row('Calmar ratio (CAGR / |max drawdown|)', 'calmar', '0.000'), // -0.0004 rounds to 0: no minus sign
      row('Max drawdown', 'maxDrawdown', '-10.00 %'),
      row('Max drawdown duration (bars)', 'maxDrawdownDurationBars', '1,234'),
      row('Max drawdown duration', 'maxDrawdownDurationDays', '1.3 days'),
      row('Max drawdown recovered', 'maxDrawdownRecovered', 'no'),
      row('K-ratio (Kestner 2003)', 'kRatio', 'n/a'),
      row('Trades', 'tradeCount', '4'),
      row('Win rate', 'winRate', '25.00 %'),
      row('Profit factor', 'profitFactor', 'n/a'),
      row('Gross profit', 'grossProfit', '2.50 USDT'),
    ];
    const second = [
      row('Gross loss', 'grossLoss', '-1,234.50 USDT'),
      row('Fills', 'fillCount', '5'),
      row('Traded notional', 'turnoverNotional', '12,345,678,901.00 USDT'),
      row('Turnover (notional / mean equity)', 'turnover', '3.46×'),
      row('Turnover per year', 'annualTurnover', '0.00×'),
      row('Exposure (bars with a position)', 'exposure', '100.00 %'),
      row('Fees paid', 'feesPaid', '1.50 USDT'),
      row('Funding paid', 'fundingPaid', '0.00 USDT'),
      row('Liquidations', 'liquidations', '1'),
      row('Initial equity', 'initialEquity', '1,000.00 USDT'),
      row('Final equity', 'finalEquity', '1,089.00 USDT'),
      row('First bar close', 'startMs', '2023-12-31 00:00 UTC'),
      row('Last bar close', 'endMs', '2024-01-03 00:00 UTC'),
      row('Period', 'years', '0.01 years'),
      row('Bars', 'bars', '4'),
    ];
    expect(between(TINY_HTML, '<div class="metrics-grid">', '\n')).toBe(`<div class="metrics-grid"><table class="metrics">${first.join('')}</table><table class="metrics">${second.join('')}</table></div>`);
    expect(between(TINY_HTML, '<p class="sub">Returns are', '</p>')).toBe(
      "<p class=\"sub\">Returns are per-bar simple returns of the equity curve; annualisation uses 365 bars per year and years of 365.25 days; risk-free rate 0. Sharpe uses the sample standard deviation; Sortino's downside deviation is sqrt(mean(min(r, 0)²)) over all bars. K-ratio: Kestner (2003), slope / standard error of ln(equity) on bar index, divided by sqrt(bars). n/a = undefined for this run (e.g. profit factor without a losing trade).",
    );
    const other = renderHtmlReport(tinyResult(), { ...METRICS, maxDrawdownRecovered: true, annualVolatility: 0.5, sortino: 2, kRatio: -0.25, profitFactor: 1.5, cagr: -Infinity });
    expect(other).toContain('data-metric="maxDrawdownRecovered">yes</td>');
    expect(other).toContain('data-metric="annualVolatility">50.00 %</td>');
    expect(other).toContain('data-metric="sortino">2.000</td>');
    expect(other).toContain('data-metric="kRatio">-0.250</td>');
    expect(other).toContain('data-metric="profitFactor">1.500</td>');
    expect(other).toContain('data-metric="cagr">-Infinity</td>'); // no unit on a non-finite value
  });

  it('writes the notes, data sources, per-instrument price sections and the costs line', () => {
    const TINY_HTML = tinyHtml();
    expect(between(TINY_HTML, '<section id="notes">', '</section>')).toBe('<section id="notes">\n<h2>Notes</h2>\n<ul class="notes"><li>note &lt;one&gt;</li><li>note two</li></ul>\n');
    expect(between(TINY_HTML, '<section id="data-sources">', '</section>')).toBe(
      '<section id="data-sources">\n<h2>Data sources</h2>\n<table><thead><tr><th>Instrument</th><th>Venue</th><th>Symbol</th><th>Timeframe</th><th>Note</th></tr></thead><tbody>' +
        '<tr><td>AAA-LINEAR.X</td><td>bybit</td><td>AAAUSDT</td><td>1d</td><td></td></tr><tr><td>BBB-LINEAR.X</td><td>binance</td><td>BBBUSDT</td><td>1d</td><td>spot prices</td></tr></tbody></table>\n',
    );
    expect(between(TINY_HTML, '<section id="charts">', '</section>')).toBe(`<section id="charts">
<h2>Equity and drawdown</h2>
<div id="plot-equity" class="plot"></div>
<div id="plot-drawdown" class="plot"></div>
<h2>Prices and fills</h2>
<h3>AAA-LINEAR.X <span class="sub">(bybit AAAUSDT 1d)</span></h3>
<p class="sub">4 bars, 2 fills (▲ buy, ▼ sell).</p>
<div id="plot-candles-0" class="plot"></div>
<h3>BBB-LINEAR.X <span class="sub">(binance BBBUSDT 1d)</span></h3>
<p class="sub">4 bars, 2 fills (▲ buy, ▼ sell).</p>
<div id="plot-candles-1" class="plot"></div>
<h2>Monthly returns</h2>
<div id="plot-monthly" class="plot"></div>
<h2>Rolling Sharpe</h2>
<div id="plot-rolling-sharpe" class="plot"></div>
<h2>Costs</h2>
<p class="sub">Fees 1.50 USDT, funding 0.00 USDT in total.</p>
<div id="plot-costs" class="plot"></div>
`);
  });

  it('says so when there are no notes, data sources or trades, and names an instrument without a source plainly', () => {
    const r = tinyResult({ notes: [], dataSources: [], trades: [], annotations: undefined });
    const html = renderHtmlReport(r, METRICS);
    expect(between(html, '<section id="notes">', '</section>')).toBe('<section id="notes">\n<h2>Notes</h2>\n<p>No notes: no fallbacks, substitutions or liquidations were recorded.</p>\n');
    expect(between(html, '<section id="data-sources">', '</section>')).toBe('<section id="data-sources">\n<h2>Data sources</h2>\n<p>No data sources recorded.</p>\n');
    expect(between(html, '<section id="trades">', '</section>')).toBe('<section id="trades">\n<h2>Trades</h2>\n<p>No closed trades.</p>\n');
    expect(html).toContain('<h3>AAA-LINEAR.X</h3>\n<p class="sub">4 bars, 2 fills');
    expect(html).toContain('<div id="plot-costs" class="plot"></div>\n</section>\n\n<section id="trades">'); // no annotation section
    const data = reportData(html) as { candles: { title: string }[] };
    expect(data.candles.map((c) => c.title)).toEqual([A, B]);
    expect('annotations' in data).toBe(false);
  });

  it('writes the tier table and regime headings of the annotations', () => {
    const TINY_HTML = tinyHtml();
    const pct = (x: string) => `<td class="num">${x} %</td>`;
    const pnl = (cls: string, x: string) => `<td class="num ${cls}">${x}</td>`;
    const zero = pct('0.00') + pnl('', '0.00');
    const rows = [
      `<tr><th scope="row">FULL_RL</th>${pct('25.00')}${pnl('neg', '-2.00')}${pct('50.00')}${pnl('neg', '-2.00')}${zero}</tr>`,
      `<tr><th scope="row">BLENDED</th>${zero}${zero}${zero}</tr>`,
      `<tr><th scope="row">PURE_KELLY</th>${pct('12.50')}${pnl('pos', '2.00')}${pct('25.00')}${pnl('pos', '2.00')}${zero}</tr>`,
      `<tr><th scope="row">EMERGENCY_FLAT</th>${zero}${zero}${zero}</tr>`,
      `<tr><th scope="row">CUSTOM&lt;x&gt;</th>${pct('25.00')}${pnl('pos', '2.00')}${zero}${pct('50.00')}${pnl('pos', '2.00')}</tr>`,
      `<tr><th scope="row">none</th>${pct('37.50')}${pnl('pos', '2.00')}${pct('25.00')}${pnl('pos', '2.00')}${pct('50.00')}${pnl('', '0.00')}</tr>`,
    ];
    const head = ['Tier', 'Time (all)', 'PnL (all, USDT)', `Time ${A}`, `PnL ${A}`, `Time ${B}`, `PnL ${B}`].map((h) => `<th>${h}</th>`).join('');
    expect(between(TINY_HTML, '<section id="annotations">', '</section>')).toBe(`<section id="annotations">
<h2>Sizing tiers and regimes</h2>
<p class="sub">Sizing tier in force per instrument over time (4 tier or reason changes; hover for the reason). Attribution rule: a bar belongs to the tier in force at its start (the decision of the previous close, whose orders fill at this bar's open); its PnL is the instrument's mark-to-market PnL over the bar, net of fees and funding. <code>none</code> = before the first decision.</p>
<div id="plot-tiers" class="plot"></div>
<div class="trades-wrap"><table id="tier-attribution"><thead><tr>${head}</tr></thead><tbody>${rows.join('')}</tbody></table></div>
<h3>BBB-LINEAR.X <span class="sub">(regime: bear, bull, odd)</span></h3>
<div id="plot-regime-0" class="plot"></div>
<h3>ZZZ-LINEAR.X <span class="sub">(regime: crisis, neutral)</span></h3>
<div id="plot-regime-1" class="plot"></div>
`);
    // Without PnL columns the tier PnL cells say n/a; an instrument without a row for a tier shows 0.
    const r = tinyResult();
    const noPnl = renderHtmlReport({ ...r, bars: r.bars.map(({ pnl: _pnl, ...bar }) => bar) }, METRICS);
    expect(between(noPnl, '<tr><th scope="row">none</th>', '</tr>')).toBe(`<tr><th scope="row">none</th>${pct('37.50')}<td class="num">n/a</td>${pct('25.00')}<td class="num">n/a</td>${pct('50.00')}<td class="num">n/a</td>`);
  });

  it('shows only the regime part when no tiers were annotated', () => {
    const r = tinyResult();
    const html = renderHtmlReport({ ...r, annotations: { regimeProbabilities: r.annotations!.regimeProbabilities! } }, METRICS);
    expect(between(html, '<section id="annotations">', '</section>')).toBe(`<section id="annotations">
<h2>Sizing tiers and regimes</h2>
<h3>BBB-LINEAR.X <span class="sub">(regime: bear, bull, odd)</span></h3>
<div id="plot-regime-0" class="plot"></div>
<h3>ZZZ-LINEAR.X <span class="sub">(regime: crisis, neutral)</span></h3>
<div id="plot-regime-1" class="plot"></div>
`);
    // No tiers: the tier axis keeps only the known tiers, and no instrument has a step.
    expect((reportData(html) as { annotations: { tierOrder: string[]; tiers: { t: number[] }[] } }).annotations).toMatchObject({
      tierOrder: ['none', 'EMERGENCY_FLAT', 'PURE_KELLY', 'BLENDED', 'FULL_RL'],
      tiers: [{ name: A, t: [] }, { name: B, t: [] }],
    });
    const tiersOnly = renderHtmlReport({ ...r, annotations: { tiers: r.annotations!.tiers! } }, METRICS);
    expect(tiersOnly).toContain('<div id="plot-tiers" class="plot"></div>\n<div class="trades-wrap"><table id="tier-attribution">');
    expect(tiersOnly).not.toContain('<div id="plot-regime-');
    const data = reportData(tiersOnly) as { annotations: { regimes: unknown[] } };
    expect(data.annotations.regimes).toEqual([]);
  });

  it('writes the trades table with signs, classes, prices and returns', () => {
    const TINY_HTML = tinyHtml();
    const cell = (x: string, cls = 'num') => `<td class="${cls}">${x}</td>`;
    const row = (cells: string[]) => `<tr>${cells.join('')}</tr>`;
    const text = (x: string) => `<td>${x}</td>`;
    const head = ['#', 'Instrument', 'Direction', 'Entry (UTC)', 'Exit (UTC)', 'Entry price', 'Exit price', 'Quantity', 'PnL (USDT)', 'Fees (USDT)', 'Funding (USDT)', 'Return'].map((h) => `<th>${h}</th>`).join('');
    const body = [
      row([cell('1'), text(A), text('long'), text('2023-12-30 00:00 UTC'), text('2024-01-01 00:00 UTC'), cell('10'), cell('12'), cell('2'), cell('2.50', 'num pos'), cell('1.00'), cell('0.50'), cell('12.50 %', 'num pos')]),
      row([cell('2'), text(B), text('short'), text('2023-12-31 00:00 UTC'), text('2024-01-02 00:00 UTC'), cell('101'), cell('98'), cell('1'), cell('-1,234.50', 'num neg'), cell('0.50'), cell('-0.25'), cell('-5.00 %', 'num neg')]),
      row([cell('3'), text(B), text('long'), text('2024-01-02 00:00 UTC'), text('2024-01-02 00:00 UTC'), cell('98'), cell('98'), cell('1'), cell('0.00', 'num '), cell('0.00'), cell('0.00'), cell('0.00 %', 'num ')]),
      row([cell('4'), text('ZZZ-LINEAR.X'), text('long'), text('2023-12-30 00:00 UTC'), text('2023-12-30 00:00 UTC'), cell('1'), cell('1'), cell('1'), cell('0.00', 'num '), cell('0.00'), cell('0.00'), cell('0.00 %', 'num ')]),
    ];
    expect(between(TINY_HTML, '<section id="trades">', '</section>')).toBe(
      `<section id="trades">\n<h2>Trades</h2>\n<p class="sub">All 4 trades.</p><div class="trades-wrap"><table id="trades-table"><thead><tr>${head}</tr></thead><tbody>\n${body.join('\n')}\n</tbody></table></div>\n`,
    );
  });

  it('formats table prices and quantities to 8 significant digits without exponents', () => {
    const t = tinyResult().trades[0]!;
    const html = renderHtmlReport(tinyResult({ trades: [{ ...t, entryPrice: 65_432.123456789, exitPrice: NaN, quantity: 0.000123456789 }] }), METRICS);
    expect(between(html, '<td>2024-01-01 00:00 UTC</td>', '<td class="num pos">')).toBe('<td>2024-01-01 00:00 UTC</td><td class="num">65432.123</td><td class="num">NaN</td><td class="num">0.00012345679</td>');
  });

  it('writes the run configuration sorted and escaped', () => {
    const TINY_HTML = tinyHtml();
    expect(between(TINY_HTML, '<section id="config">', '</section>')).toBe(`<section id="config">
<h2>Run configuration</h2>
<pre>${escapeForTest(JSON.stringify(summarize(tinyResult(), METRICS).config, null, 2))}</pre>
`);
    expect(TINY_HTML).toContain('<pre>{\n  &quot;a&quot;: {\n    &quot;c&quot;: &quot;2023-12-30T00:00:00.000Z&quot;,');
  });
});

/** HTML escaping done here independently of the module. */
function escapeForTest(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;');
}

describe('renderHtmlReport plot data (exact payload for a small hand-made run)', () => {
  it('carries equity, drawdown, candles with fill markers, monthly returns, rolling Sharpe and costs', () => {
    const TINY_HTML = tinyHtml();
    const data = reportData(TINY_HTML);
    const closes = [T0 + DAY, T0 + 2 * DAY, T0 + 3 * DAY, T0 + 4 * DAY];
    const opens = [T0, T0 + DAY, T0 + 2 * DAY, T0 + 3 * DAY];
    const nullMonths = (k: number, v: number) => Array.from({ length: 12 }, (_, m) => (m === k ? v : null));
    expect({ ...data, annotations: undefined }).toEqual({
      equity: { t: closes, v: [1000, 1100, 990, 1089], initialCash: 1000 },
      // 990 / 1100 - 1 = -10 %, 1089 / 1100 - 1 = -1 % (in percent, 8 significant digits).
      drawdown: { t: closes, v: [0, 0, -10, -1] },
      candles: [
        {
          title: `${A} — bybit AAAUSDT 1d`,
          t: opens,
          o: [10, 11, 12, 11],
          h: [11.5, 12.5, 12.25, 13],
          l: [9.5, 10.75, 10.5, 10.25],
          c: [11, 12, 11, 12.5],
          buy: { t: [T0], p: [10], text: ['buy 2 @ 10 (taker) a-in'], total: 1 },
          sell: { t: [T0 + 2 * DAY], p: [12], text: ['sell 2 @ 12 (taker, liquidation) a-out'], total: 1 },
        },
        {
          title: `${B} — binance BBBUSDT 1d`,
          t: opens,
          o: [100, 101, 99, 98],
          h: [102, 103, 100, 99],
          l: [99, 98, 97, 96],
          c: [101, 99, 98, 97],
          buy: { t: [T0 + 3 * DAY], p: [98], text: ['buy 1 @ 98 (taker) b-out'], total: 1 },
          sell: { t: [T0 + DAY], p: [101], text: ['sell 1 @ 101 (maker) b-in'], total: 1 },
        },
      ],
      // The return closing at 2024-01-01 00:00 belongs to December 2023 (+10 %); January 2024: 1089 / 1100 - 1 = -1 %.
      monthly: { years: ['2023', '2024'], z: [nullMonths(11, 10), nullMonths(0, -1)], totals: [10, -1] },
      // round(30 × 365 / 365.25) = 30 bars: longer than the run, so no value yet.
      rolling: { window: 30, t: closes.slice(1), v: [null, null, null] },
      costs: { instruments: [A, B], fees: [1, 0.5], funding: [0.5, -0.25], feesPaid: 1.5, fundingPaid: -0.004 },
      annotations: undefined,
    });
  });

  it('carries tier steps (offset per instrument, extended to the end) and stacked regime probabilities', () => {
    const TINY_HTML = tinyHtml();
    const data = reportData(TINY_HTML) as { annotations: unknown };
    expect(data.annotations).toEqual({
      // An unknown tier goes right after `none`. The names become the axis tick labels, which Plotly reads as markup
      // (a raw `<a href=…>` there is a live link): escaped like every other Plotly text.
      tierOrder: ['none', 'CUSTOM&lt;x&gt;', 'EMERGENCY_FLAT', 'PURE_KELLY', 'BLENDED', 'FULL_RL'],
      tiers: [
        // Instrument 0 of 2 sits 0.05 below the tier's row, instrument 1 0.05 above; the repeated PURE_KELLY is one step.
        { name: A, t: [T0 + DAY, T0 + 2 * DAY, T0 + 4 * DAY], y: [2.95, 4.95, 4.95], text: [`${A}: PURE_KELLY (no_rl_sizer)`, `${A}: FULL_RL (rl)`, `${A}: FULL_RL (to the end)`] },
        { name: B, t: [T0 + 2 * DAY, T0 + 4 * DAY], y: [1.05, 1.05], text: [`${B}: CUSTOM&lt;x&gt; (r&amp;d)`, `${B}: CUSTOM&lt;x&gt; (to the end)`] },
      ],
      regimes: [
        {
          title: `${B}: filtered regime probabilities (stacked) and close`,
          t: [T0 + DAY, T0 + 2 * DAY],
          states: [
            { label: 'bear', color: '#ff7f0e', p: [0.25, 0.5] },
            { label: 'bull', color: '#2ca02c', p: [0.75, 0.125] },
            { label: 'odd', color: '#7f7f7f', p: [0, 0.375] },
          ],
          // Closes are plotted at the bar close times (the equity times).
          price: { t: [T0 + DAY, T0 + 2 * DAY, T0 + 3 * DAY, T0 + 4 * DAY], c: [101, 99, 98, 97] },
        },
        {
          title: 'ZZZ-LINEAR.X: filtered regime probabilities (stacked) and close',
          t: [T0 + DAY],
          states: [
            { label: 'crisis', color: '#d62728', p: [0.33333333] },
            { label: 'neutral', color: '#bcbd22', p: [0.66666667] },
          ],
          price: { t: [], c: [] }, // not an instrument of the run
        },
      ],
    });
  });
});

describe('renderHtmlReport with grid rows an instrument had no bar at', () => {
  it('draws no candle there and counts only its own bars', () => {
    const base = tinyResult();
    // B had no bar on 2023-12-31 (a forward-filled row: its values are the previous close) nor on 2024-01-02.
    const b = base.bars[1]!;
    const html = renderHtmlReport(tinyResult({ bars: [base.bars[0]!, { ...b, present: Uint8Array.of(1, 0, 1, 0) }] }), METRICS);
    const data = reportData(html) as { candles: { t: number[]; o: (number | null)[]; h: (number | null)[]; l: (number | null)[]; c: (number | null)[] }[] };
    const c = data.candles[1]!;
    expect(c.t).toEqual([T0, T0 + DAY, T0 + 2 * DAY, T0 + 3 * DAY]);
    expect([c.o, c.h, c.l, c.c]).toEqual([
      [100, null, 99, null],
      [102, null, 100, null],
      [99, null, 97, null],
      [101, null, 98, null],
    ]);
    expect(html).toContain(`<p class="sub">2 bars, 2 fills (▲ buy, ▼ sell).</p>`);
    // A (no mask) is unchanged: all four.
    expect(data.candles[0]!.o).toEqual([10, 11, 12, 11]);
    expect(html).toContain(`<p class="sub">4 bars, 2 fills (▲ buy, ▼ sell).</p>`);
  });

  it('leaves those rows out of a display bucket (two bars per candle above 20,000)', () => {
    const n = 20_002;
    const ts = Float64Array.from({ length: n }, (_, i) => T0 + i * DAY);
    const price = (i: number) => 100 + i;
    const open = Float64Array.from({ length: n }, (_, i) => price(i));
    const high = Float64Array.from({ length: n }, (_, i) => price(i) + 0.5);
    const low = Float64Array.from({ length: n }, (_, i) => price(i) - 0.5);
    const close = Float64Array.from({ length: n }, (_, i) => price(i) + 0.25);
    // Row 2 has no bar (bucket 1 is row 3 alone); rows 4 and 5 have none (bucket 2 is no candle).
    const present = new Uint8Array(n).fill(1);
    present[2] = present[4] = present[5] = 0;
    const run = tinyResult({
      instruments: [A],
      dataSources: [],
      equity: { ts: Float64Array.from(ts, (t) => t + DAY), value: new Float64Array(n).fill(1000) },
      bars: [{ ts, open, high, low, close, present, position: new Float64Array(n) }],
      fills: [],
      trades: [],
      annotations: undefined,
    });
    const html = renderHtmlReport(run, METRICS);
    const c = (reportData(html) as { candles: { t: number[]; o: (number | null)[]; h: (number | null)[]; l: (number | null)[]; c: (number | null)[] }[] }).candles[0]!;
    const candle = (k: number) => [c.t[k], c.o[k], c.h[k], c.l[k], c.c[k]];
    expect(c.t).toHaveLength(10_001);
    expect(candle(0)).toEqual([T0, 100, 101.5, 99.5, 101.25]);
    expect(candle(1)).toEqual([T0 + 2 * DAY, 103, 103.5, 102.5, 103.25]);
    expect(candle(2)).toEqual([T0 + 4 * DAY, null, null, null, null]);
    expect(candle(3)).toEqual([T0 + 6 * DAY, 106, 107.5, 105.5, 107.25]);
    expect(html).toContain(`<p class="sub">19,999 bars, 0 fills (▲ buy, ▼ sell).</p>`);
  });
});

/** A run of one instrument (3 flat daily bars, nothing traded, no annotations) whose equity at daily closes is `value`. */
function equityOnlyRun(value: Float64Array, periodsPerYear: number): BacktestResult {
  const ts = Float64Array.from({ length: 3 }, (_, i) => T0 + i * DAY);
  const flat = ts.map(() => 1);
  return tinyResult({
    instruments: [A],
    dataSources: [],
    periodsPerYear,
    equity: { ts: Float64Array.from(value, (_, i) => T0 + (i + 1) * DAY), value },
    bars: [{ ts, open: flat, high: flat, low: flat, close: flat, position: new Float64Array(3) }],
    fills: [],
    trades: [],
    annotations: undefined,
  });
}

describe('renderHtmlReport tier steps', () => {
  it('plots a first tier with an empty name as a step (no tier came before it)', () => {
    const r = tinyResult({ annotations: { tiers: [{ instrument: A, ts: T0 + DAY, tier: '', reason: 'blank' }] } });
    const data = reportData(renderHtmlReport(r, METRICS)) as { annotations: { tierOrder: string[]; tiers: unknown[] } };
    expect(data.annotations.tierOrder).toEqual(['none', '', 'EMERGENCY_FLAT', 'PURE_KELLY', 'BLENDED', 'FULL_RL']);
    expect(data.annotations.tiers).toEqual([
      { name: A, t: [T0 + DAY, T0 + 4 * DAY], y: [0.95, 0.95], text: [`${A}:  (blank)`, `${A}:  (to the end)`] },
      { name: B, t: [], y: [], text: [] },
    ]);
  });
});

describe('renderHtmlReport display reduction of long runs', () => {
  const H = 3_600_000;
  const X = 'XXX-LINEAR.X';
  const NE = 20_003; // equity samples: 3 more than MAX_LINE_POINTS
  const NB = 20_001; // bars: 1 more than MAX_CANDLES_PER_INSTRUMENT
  const NR = 10_002; // regime samples: 2 more than MAX_LINE_POINTS / 2
  const barTs = Float64Array.from({ length: NB }, (_, i) => T0 + i * H);
  const open = Float64Array.from({ length: NB }, (_, i) => i);
  const high = Float64Array.from({ length: NB }, (_, i) => i + 0.5);
  const low = Float64Array.from({ length: NB }, (_, i) => i - 0.5);
  const close = Float64Array.from({ length: NB }, (_, i) => i + 0.25);
  open[0] = NaN; // candle 0 (bars 0-1) opens at bar 1's open
  close[1] = NaN; // ... and closes at bar 0's close
  high[2] = NaN; // candle 1 (bars 2-3): high from bar 3 only
  low[3] = NaN; // ... low from bar 2 only
  high[6] = 9.5; // candle 3 (bars 6-7): its high is the first bar's
  for (const a of [open, high, low, close]) a.fill(NaN, 4, 6); // candle 2 (bars 4-5): nothing known
  const long = tinyResult({
    instruments: [X],
    dataSources: [],
    periodsPerYear: 12, // rolling window max(2, round(30 × 12 / 365.25) = 1) = 2 returns
    // Alternating 1001, 1000, 1001, ...: every bucket's min and max differ.
    equity: { ts: Float64Array.from({ length: NE }, (_, i) => T0 + (i + 1) * H), value: Float64Array.from({ length: NE }, (_, i) => (i % 2 === 0 ? 1001 : 1000)) },
    bars: [{ ts: barTs, open, high, low, close, position: new Float64Array(NB) }],
    fills: Array.from({ length: NB }, (_, i): FillRecord => ({ ts: barTs[i]!, instrument: X, clientOrderId: `f${i}`, side: 'buy', quantity: 1, price: i + 1, fee: 0, liquidity: 'maker' })),
    trades: [],
    annotations: {
      regimeProbabilities: [{ instrument: X, labels: ['bull'], ts: Float64Array.from({ length: NR }, (_, i) => T0 + i * H), probabilities: [Float64Array.from({ length: NR }, (_, i) => i / NR)] }],
    },
  });
  type Line = { t: number[]; v: (number | null)[] };
  // Rendered inside each test (see tinyHtml).
  const render = () => {
    const html = renderHtmlReport(long, METRICS);
    return { html, data: reportData(html) as LongData };
  };
  type LongData = {
    equity: Line;
    drawdown: Line;
    rolling: Line & { window: number };
    candles: { title: string; t: number[]; o: (number | null)[]; h: (number | null)[]; l: (number | null)[]; c: (number | null)[]; buy: { t: number[]; p: number[]; text: string[]; total: number }; sell: { total: number } }[];
    annotations: { regimes: { t: number[]; states: { p: number[] }[]; price: { t: number[]; c: number[] } }[] };
  };

  it('decimates equity and drawdown to the first and last point plus each bucket’s min and max, in time order', () => {
    const { data } = render();
    // 9,999 buckets over the 20,001 inner samples: all of 2 samples except 3 of 3 samples (starting at 6665, 13332
    // and 19999). In a bucket of 3 the repeated extreme is not kept a second time (first min, first max).
    const skipped = new Set([6667, 13334, 20001]);
    const kept = Array.from({ length: NE }, (_, i) => i).filter((i) => !skipped.has(i));
    expect(kept).toHaveLength(20_000);
    expect(data.equity.t).toEqual(kept.map((i) => T0 + (i + 1) * H));
    expect(data.equity.v).toEqual(kept.map((i) => (i % 2 === 0 ? 1001 : 1000)));
    // The drawdown (0 at 1001, 1000 / 1001 - 1 at 1000, in %) alternates the same way.
    expect(data.drawdown.t).toEqual(data.equity.t);
    expect(data.drawdown.v).toEqual(kept.map((i) => (i % 2 === 0 ? 0 : Number(((1000 / 1001 - 1) * 100).toPrecision(8)))));
  });

  it('decimates a flat rolling Sharpe to one point per bucket and keeps the leading gap', () => {
    const { data } = render();
    expect(data.rolling.window).toBe(2);
    // 20,002 returns; the first window is incomplete (NaN: a gap). Every later window holds the same two returns,
    // mean (0.001 - 1/1001) / 2 over sd (0.001 + 1/1001) / sqrt(2), times sqrt(12): about 0.0012241.
    const flat = data.rolling.v[1]!;
    expect(flat).toBeCloseTo(0.0012241, 6);
    // 9,999 buckets of flat values: one point each, plus the first and the last.
    expect(data.rolling.t).toHaveLength(10_001);
    expect(data.rolling.t[0]).toBe(T0 + 2 * H);
    expect(data.rolling.t[1]).toBe(T0 + 3 * H);
    expect(data.rolling.t[10_000]).toBe(T0 + NE * H);
    expect(data.rolling.v[0]).toBeNull();
    expect(new Set(data.rolling.v.slice(1))).toEqual(new Set([flat]));
  });

  it('aggregates candles two bars at a time, skipping unknown values', () => {
    const { html, data } = render();
    const c = data.candles[0]!;
    expect(c.title).toBe(`${X} (2 bars per candle for display)`);
    expect(c.t).toHaveLength(10_001);
    const candle = (k: number) => [c.t[k], c.o[k], c.h[k], c.l[k], c.c[k]];
    expect(candle(0)).toEqual([T0, 1, 1.5, -0.5, 0.25]);
    expect(candle(1)).toEqual([T0 + 2 * H, 2, 3.5, 1.5, 3.25]);
    expect(candle(2)).toEqual([T0 + 4 * H, null, null, null, null]);
    expect(candle(3)).toEqual([T0 + 6 * H, 6, 9.5, 5.5, 7.25]);
    expect(candle(10_000)).toEqual([T0 + 20_000 * H, 20_000, 20_000.5, 19_999.5, 20_000.25]); // the last bar alone
    expect(html).toContain(`<h3>${X}</h3>\n<p class="sub">20,001 bars, 20,001 fills (▲ buy, ▼ sell).</p>`);
  });

  it('keeps every second fill marker above 20,000 fills and counts them all', () => {
    const { data } = render();
    const buy = data.candles[0]!.buy;
    expect(buy.total).toBe(NB);
    expect(buy.t).toHaveLength(10_001);
    expect(buy.t.slice(0, 2)).toEqual([T0, T0 + 2 * H]);
    expect(buy.p.slice(0, 2)).toEqual([1, 3]);
    expect(buy.text.slice(0, 2)).toEqual(['buy 1 @ 1 (maker) f0', 'buy 1 @ 3 (maker) f2']);
    expect(buy.t[10_000]).toBe(T0 + 20_000 * H);
    expect(data.candles[0]!.sell.total).toBe(0);
  });

  it('strides regime samples and closes to about 10,000 points, always keeping the last', () => {
    const { data } = render();
    const r = data.annotations.regimes[0]!;
    // 10,002 samples, step 2: 0, 2, ..., 10,000 and then the last, 10,001.
    const idx = [...Array.from({ length: 5001 }, (_, k) => 2 * k), NR - 1];
    expect(r.t).toEqual(idx.map((i) => T0 + i * H));
    expect(r.states[0]!.p).toEqual(idx.map((i) => Number((i / NR).toPrecision(8))));
    // 20,001 closes, step 3: 0, 3, ..., 19,998 and the last, 20,000. The equity has another length than the bars,
    // so the closes are plotted at the bar times.
    const pIdx = [...Array.from({ length: 6667 }, (_, k) => 3 * k), NB - 1];
    expect(r.price.t).toEqual(pIdx.map((i) => T0 + i * H));
    expect(r.price.c).toEqual(pIdx.map((i) => i + 0.25));
  });
});

describe('renderHtmlReport at the display limits', () => {
  it('keeps exactly 20,000 points, 20,000 markers and 2,000 trades whole; stops a tier step at the last close', () => {
    const N = 20_000;
    const X = 'XXX-LINEAR.X';
    const ts = Float64Array.from({ length: 3 }, (_, i) => T0 + i * DAY);
    const eqTs = Float64Array.from({ length: N }, (_, i) => T0 + (i + 1) * 60_000);
    const r = tinyResult({
      instruments: [X],
      dataSources: [],
      equity: { ts: eqTs, value: new Float64Array(N).fill(1000) }, // flat: a decimated copy would keep one point per bucket
      bars: [{ ts, open: ts.map(() => 1), high: ts.map(() => 1), low: ts.map(() => 1), close: ts.map(() => 1), position: new Float64Array(3) }],
      fills: Array.from({ length: N }, (_, i): FillRecord => ({ ts: T0, instrument: X, clientOrderId: `f${i}`, side: 'sell', quantity: 1, price: 1, fee: 0, liquidity: 'maker' })),
      trades: Array.from({ length: 2000 }, () => tinyResult().trades[0]!),
      annotations: {
        tiers: [{ instrument: X, ts: eqTs[N - 1]!, tier: 'BLENDED', reason: 'last' }],
        regimeProbabilities: [{ instrument: X, labels: ['bull'], ts: new Float64Array(0), probabilities: [new Float64Array(0)] }],
      },
    });
    const html = renderHtmlReport(r, METRICS);
    const data = reportData(html) as {
      equity: { t: number[] };
      drawdown: { t: number[] };
      candles: { sell: { t: number[]; total: number } }[];
      annotations: { tiers: { t: number[]; y: number[] }[]; regimes: { t: number[]; states: { p: number[] }[]; price: { t: number[] } }[] };
    };
    expect(data.equity.t).toEqual(Array.from(eqTs));
    expect(data.drawdown.t).toHaveLength(N);
    expect(data.candles[0]!.sell.t).toHaveLength(N);
    expect(data.candles[0]!.sell.total).toBe(N);
    expect(html).toContain('<p class="sub">All 2,000 trades.</p>');
    // The tier set at the last close is one point: nothing to extend it to. A single instrument sits on its row (BLENDED = 3).
    expect(data.annotations.tiers).toEqual([{ name: X, t: [eqTs[N - 1]], y: [3], text: [`${X}: BLENDED (last)`] }]);
    // A regime without samples plots nothing of itself (the closes still show).
    expect(data.annotations.regimes[0]!.t).toEqual([]);
    expect(data.annotations.regimes[0]!.states[0]!.p).toEqual([]);
    expect(data.annotations.regimes[0]!.price.t).toEqual([T0, T0 + DAY, T0 + 2 * DAY]);
  });
});

describe('plotIds', () => {
  const regime = tinyResult().annotations!.regimeProbabilities![0]!;
  it('adds the tier plot only when tiers were annotated, then one plot per regime record', () => {
    const base = ['plot-equity', 'plot-drawdown', 'plot-candles-0', 'plot-monthly', 'plot-rolling-sharpe', 'plot-costs'];
    expect(plotIds({ instruments: [A] })).toEqual(base);
    expect(plotIds({ instruments: [A], annotations: { tiers: [], regimeProbabilities: [regime, regime] } })).toEqual([...base, 'plot-regime-0', 'plot-regime-1']);
    expect(plotIds({ instruments: [A], annotations: { tiers: tinyResult().annotations!.tiers! } })).toEqual([...base, 'plot-tiers']);
  });
});

describe('escapeHtml', () => {
  it('escapes the five HTML-special characters and nothing else', () => {
    expect(escapeHtml(`<a href="x" title='y'>Tom & co</a> ✓`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;Tom &amp; co&lt;/a&gt; ✓');
  });
});

describe('renderHtmlReport script safety and the rolling window', () => {
  it('escapes U+2028 and U+2029 in the plot payload', () => {
    const odd = `${A}\u2028\u2029`;
    const r = tinyResult();
    const html = renderHtmlReport({ ...r, instruments: [odd, B], dataSources: [] }, METRICS);
    const raw = between(html, 'id="report-data">', '</script>');
    expect(raw).not.toContain('\u2028');
    expect(raw).not.toContain('\u2029');
    expect(raw).toContain('"title":"AAA-LINEAR.X\\u2028\\u2029"');
    expect((reportData(html) as { candles: { title: string }[] }).candles[0]!.title).toBe(odd);
  });

  it('keeps the first minimum and the last maximum of each bucket of a rising line (buckets do not overlap)', () => {
    const n = 20_003;
    const data = reportData(renderHtmlReport(equityOnlyRun(Float64Array.from({ length: n }, (_, i) => 1000 + i), 365), METRICS)) as { equity: { t: number[]; v: number[] } };
    // Same buckets as the alternating line above; in the three of 3 samples the middle one is dropped.
    const kept = Array.from({ length: n }, (_, i) => i).filter((i) => ![6666, 13_333, 20_000].includes(i));
    expect(data.equity.t).toEqual(kept.map((i) => T0 + (i + 1) * DAY));
    expect(data.equity.v).toEqual(kept.map((i) => 1000 + i));
  });

  it('decimates the rolling Sharpe with its gaps counted as 0, so a gap does not hide the bucket’s other point', () => {
    // Returns +1 %, +1 %, -1/101, -1/101, ... : with a window of 2 every other window holds two equal returns (no
    // Sharpe: a gap), the others the same positive value. 20,002 values, 9,999 buckets of 2 or 3 over the inner 20,000.
    const r = equityOnlyRun(Float64Array.from({ length: 20_003 }, (_, i) => [1000, 1010, 1020.1, 1010][i % 4]!), 12);
    const rolling = (reportData(renderHtmlReport(r, METRICS)) as { rolling: { window: number; t: number[]; v: (number | null)[] } }).rolling;
    expect(rolling.window).toBe(2);
    // Each bucket keeps its gap (as 0, the minimum) and its value: 2 × 9,999 plus the first and the last point (both gaps).
    expect(rolling.t).toHaveLength(20_000);
    expect(rolling.v.filter((x) => x === null)).toHaveLength(10_001);
    expect(rolling.v.slice(0, 4)).toEqual([null, null, rolling.v[2], null]);
    expect(rolling.v[2]).toBeGreaterThan(0);
  });

  it('uses at least 2 bars (30 days of monthly bars round to 1)', () => {
    const window = (periodsPerYear: number) => (reportData(renderHtmlReport(tinyResult({ periodsPerYear, annotations: undefined }), METRICS)) as { rolling: { window: number } }).rolling.window;
    expect(window(12)).toBe(2);
  });
});

describe('scriptSafe', () => {
  it('breaks every `</script` in any letter case and leaves the rest alone', () => {
    expect(scriptSafe('a = "</script>"; b = /<\\/SCRIPT>/; c = "</ScRiPt x"; d = "< /script</scrip>";')).toBe(
      'a = "<\\/script>"; b = /<\\/SCRIPT>/; c = "<\\/ScRiPt x"; d = "< /script</scrip>";',
    );
  });
});

describe('jsonForScript', () => {
  it('writes JSON whose <, >, & and U+2028/9 are \\u escapes, so it cannot end its script element or a JS string', () => {
    const value = { t: '</script><!-- a & b \u2028\u2029 "q" ✓', n: [1.5, null] };
    const text = jsonForScript(value);
    expect(text).toBe('{"t":"\\u003c/script\\u003e\\u003c!-- a \\u0026 b \\u2028\\u2029 \\"q\\" ✓","n":[1.5,null]}');
    expect(JSON.parse(text)).toEqual(value);
  });
});

describe('readPlotlyBundle', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tm-report-bundle-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the installed bundle by default and the file it is given otherwise', () => {
    expect(readPlotlyBundle()).toBe(readFileSync(createRequire(import.meta.url).resolve('plotly.js-dist-min'), 'utf8'));
    const path = join(dir, 'plotly.min.js');
    writeFileSync(path, 'var Plotly = {}; // ✓');
    expect(readPlotlyBundle(() => path)).toBe('var Plotly = {}; // ✓');
  });

  it('fails with plotly_bundle_missing when the bundle cannot be found or read', () => {
    const notFound = new Error("Cannot find module 'plotly.js-dist-min'");
    const failure = (locate: () => string): unknown => {
      try {
        readPlotlyBundle(locate);
      } catch (e) {
        return e;
      }
      return 'no error';
    };
    const unresolved = failure(() => {
      throw notFound;
    });
    expect(unresolved).toBeInstanceOf(ReportError);
    expect(unresolved).toMatchObject({ code: 'plotly_bundle_missing', message: "cannot read the plotly.js-dist-min bundle: Cannot find module 'plotly.js-dist-min'", context: { path: '' } });
    expect((unresolved as ReportError).cause).toBe(notFound);
    const path = join(dir, 'missing.js');
    const unreadable = failure(() => path);
    expect(unreadable).toBeInstanceOf(ReportError);
    expect(unreadable).toMatchObject({ name: 'ReportError', code: 'plotly_bundle_missing', context: { path } });
    expect(((unreadable as ReportError).cause as NodeJS.ErrnoException).code).toBe('ENOENT');
    expect((unreadable as ReportError).message).toBe(`cannot read the plotly.js-dist-min bundle at ${path}: ENOENT: no such file or directory, open '${path}'`);
  });
});

describe('writeReport errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tm-report-out-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names the folder it cannot create', async () => {
    const blocker = join(dir, 'a-file');
    writeFileSync(blocker, 'x');
    await expect(writeReport(join(blocker, 'sub'), tinyResult(), METRICS)).rejects.toMatchObject({
      name: 'ReportError',
      code: 'io',
      message: expect.stringMatching(new RegExp(`^cannot create report folder ${join(blocker, 'sub')}: `)),
      context: { path: join(blocker, 'sub') },
      cause: expect.objectContaining({ code: 'ENOTDIR' }),
    });
  });

  it('names the file it cannot write and leaves no temp file behind', async () => {
    const out = join(dir, 'run');
    mkdirSync(join(out, 'summary.json'), { recursive: true }); // a folder where the file should go
    await expect(writeReport(out, tinyResult(), METRICS)).rejects.toMatchObject({
      name: 'ReportError',
      code: 'io',
      message: expect.stringMatching(new RegExp(`^cannot write ${join(out, 'summary.json')}: `)),
      context: { path: join(out, 'summary.json') },
      cause: expect.objectContaining({ code: 'EISDIR' }),
    });
    expect(readdirSync(out)).toEqual(['summary.json']);
  });
});
