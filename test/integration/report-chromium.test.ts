import { seededRandom } from '../../src/core/random.js';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import type { BacktestResult, FillRecord, TradeRecord } from '../../src/backtest/backtest-result.js';
import { computeMetrics } from '../../src/backtest/metrics.js';
import { plotIds, writeReport } from '../../src/backtest/report.js';

/**
 * Opens a generated report in real headless Chromium and checks every plot rendered without console or page errors.
 * Needs /usr/bin/chromium (Debian: `apt-get install -y chromium`; scripts/services.sh installs it in CI).
 * Leaves a full-page screenshot in test-output/report.png.
 */

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];
const H4 = 4 * 3_600_000;
const EIGHT_HOURS = 8 * 3_600_000;

/** Standard normal draw by Box–Muller. */
function gaussian(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

/**
 * A realistic synthetic run: `instruments` GBM price paths of `bars` 4h bars, a moving-average crossover with hysteresis
 * trading a fixed notional per instrument (long/short/flat), taker fees of 5.5 bp, funding every 8h on open positions, and the
 * equity curve marked to market at every close. Everything derives from `seed`.
 */
function syntheticResult(seed: number, bars = 2000): BacktestResult {
  const rand = seededRandom(seed);
  const ids = ['BTCUSDT-LINEAR.BYBIT', 'ETHUSDT-LINEAR.BYBIT', 'SOLUSDT-LINEAR.BYBIT'];
  const start = Date.UTC(2023, 0, 1);
  const ts = Float64Array.from({ length: bars }, (_, i) => start + i * H4);
  const feeRate = 0.00055;
  const notional = 3000;
  const initialCash = 10_000;
  const fills: FillRecord[] = [];
  const trades: TradeRecord[] = [];
  const funding: BacktestResult['funding'][number][] = [];
  const unrealised = new Float64Array(bars);
  const series = ids.map((id, s) => {
    const open = new Float64Array(bars), high = new Float64Array(bars), low = new Float64Array(bars), close = new Float64Array(bars), position = new Float64Array(bars);
    let price = [30_000, 2_000, 40][s]!;
    for (let i = 0; i < bars; i++) {
      const o = price;
      const c = o * Math.exp(0.0002 + 0.012 * gaussian(rand));
      open[i] = o;
      close[i] = c;
      high[i] = Math.max(o, c) * (1 + 0.004 * rand());
      low[i] = Math.min(o, c) * (1 - 0.004 * rand());
      price = c;
    }
    // Fast/slow SMA crossover on closes; the target position is decided at bar i's close and filled at bar i+1's open.
    let fast = 0, slow = 0, qty = 0;
    let entry: { ts: number; price: number; qty: number; fees: number; funding: number } | null = null;
    const trade = (i: number, side: 'buy' | 'sell', q: number, px: number) => {
      const fee = Math.abs(q) * px * feeRate;
      fills.push({ ts: ts[i]!, instrument: id, clientOrderId: `${id}-${fills.length}`, side, quantity: Math.abs(q), price: px, fee, liquidity: 'taker' });
      return fee;
    };
    let target = 0;
    for (let i = 0; i < bars; i++) {
      if (i > 0 && target !== qty) {
        const px = open[i]!;
        if (entry && qty !== 0) {
          const fee = trade(i, qty > 0 ? 'sell' : 'buy', qty, px);
          const gross = (px - entry.price) * qty;
          const pnl = gross - entry.fees - fee - entry.funding;
          trades.push({
            instrument: id, direction: qty > 0 ? 'long' : 'short', entryTs: entry.ts, exitTs: ts[i]!, entryPrice: entry.price, exitPrice: px,
            quantity: Math.abs(qty), pnl, fees: entry.fees + fee, funding: entry.funding, returnPct: pnl / (entry.price * Math.abs(qty)),
          });
          entry = null;
        }
        qty = target;
        if (qty !== 0) entry = { ts: ts[i]!, price: px, qty, fees: trade(i, qty > 0 ? 'buy' : 'sell', qty, px), funding: 0 };
      }
      const closeTs = ts[i]! + H4;
      if (qty !== 0 && closeTs % EIGHT_HOURS === 0) {
        const rate = 0.0001 + 0.0002 * gaussian(rand);
        const payment = qty * close[i]! * rate;
        entry!.funding += payment;
        funding.push({ ts: closeTs, instrument: id, rate, markPrice: close[i]!, position: qty, payment, source: rand() < 0.05 ? 'fallback' : 'table' });
      }
      position[i] = qty;
      unrealised[i] += entry ? (close[i]! - entry.price) * qty : 0;
      fast += close[i]! - (i >= 12 ? close[i - 12]! : 0);
      slow += close[i]! - (i >= 48 ? close[i - 48]! : 0);
      if (i >= 48) {
        const f = fast / 12, sl = slow / 48;
        // Hysteresis: enter on a 1 % cross, go flat when the averages converge within 0.2 %, otherwise hold.
        if (f > sl * 1.01) target = qty > 0 ? qty : notional / close[i]!;
        else if (f < sl * 0.99) target = qty < 0 ? qty : -notional / close[i]!;
        else if (Math.abs(f / sl - 1) < 0.002) target = 0;
      }
    }
    return { ts, open, high, low, close, position };
  });
  // Realised PnL in time order across instruments: fees at fills, funding at settlements, gross PnL at trade exits.
  fills.sort((a, b) => a.ts - b.ts || a.instrument.localeCompare(b.instrument));
  trades.sort((a, b) => a.exitTs - b.exitTs || a.instrument.localeCompare(b.instrument));
  funding.sort((a, b) => a.ts - b.ts || a.instrument.localeCompare(b.instrument));
  const equity = new Float64Array(bars);
  let f = 0, p = 0, t = 0, realisedNow = 0;
  for (let i = 0; i < bars; i++) {
    const closeTs = ts[i]! + H4;
    while (f < fills.length && fills[f]!.ts <= ts[i]!) realisedNow -= fills[f++]!.fee;
    while (p < funding.length && funding[p]!.ts <= closeTs) realisedNow -= funding[p++]!.payment;
    while (t < trades.length && trades[t]!.exitTs <= ts[i]!) {
      const tr = trades[t++]!;
      realisedNow += (tr.exitPrice - tr.entryPrice) * tr.quantity * (tr.direction === 'long' ? 1 : -1);
    }
    equity[i] = initialCash + realisedNow + unrealised[i]!;
  }
  return {
    name: 'synthetic SMA crossover <3 instruments> & "quotes"',
    instruments: ids,
    dataSources: [
      { instrument: ids[0]!, venue: 'bybit', symbol: 'BTCUSDT', timeframe: '4h' },
      { instrument: ids[1]!, venue: 'bybit', symbol: 'ETHUSDT', timeframe: '4h' },
      { instrument: ids[2]!, venue: 'binance', symbol: 'SOLUSDT', timeframe: '4h', note: 'Binance spot prices traded with Bybit linear rules' },
    ],
    timeframe: '4h',
    periodsPerYear: 2190,
    initialCash,
    equity: { ts: Float64Array.from(ts, (x) => x + H4), value: equity },
    bars: series,
    fills,
    trades,
    funding,
    notes: [
      `funding fallback: ${funding.filter((x) => x.source === 'fallback').length} settlements used a constant rate of 0.0001 per 8h`,
      'SOLUSDT prices substituted from Binance spot (<no Bybit history before listing>)',
    ],
    turnoverNotional: fills.reduce((a, x) => a + x.quantity * x.price, 0),
    feesPaid: fills.reduce((a, x) => a + x.fee, 0),
    fundingPaid: funding.reduce((a, x) => a + x.payment, 0),
    positions: ids.map((instrument, s) => ({ instrument, quantity: series[s]!.position.at(-1)!, entryPrice: series[s]!.close.at(-1)!, realizedPnl: 0, fees: 0, funding: 0 })),
    liquidations: 0,
    seed,
    config: { strategy: { kind: 'sma-crossover', fast: 12, slow: 48 }, notionalPerInstrument: notional, feeRate },
  };
}

/**
 * The synthetic run plus strategy annotations as regime-kelly records them: per-instrument cumulative PnL columns,
 * sizing-tier changes (PURE_KELLY with EMERGENCY_FLAT spells, reasons changing in between) and filtered 4-state regime
 * probabilities for the first two instruments.
 */
function annotatedResult(seed: number, bars = 1200): BacktestResult {
  const base = syntheticResult(seed, bars);
  const rand = seededRandom(seed + 1);
  const labels = ['crisis', 'bear', 'neutral', 'bull'];
  const closes = base.equity.ts;
  const tiers: { instrument: string; ts: number; tier: string; reason: string }[] = [];
  base.instruments.forEach((instrument, i) => {
    let tier = '';
    for (let t = 0; t < bars; t++) {
      const next = t === 0 || rand() < 0.97 ? (tier || 'PURE_KELLY') : tier === 'PURE_KELLY' ? 'EMERGENCY_FLAT' : 'PURE_KELLY';
      const reason = next === 'EMERGENCY_FLAT' ? (rand() < 0.5 ? 'breaker_open' : 'breaker_half_open') : rand() < 0.02 ? 'no_signal' : 'no_rl_sizer';
      if (next !== tier || rand() < 0.01) tiers.push({ instrument, ts: closes[t]!, tier: next, reason });
      tier = next;
    }
    void i;
  });
  tiers.sort((a, b) => a.ts - b.ts || a.instrument.localeCompare(b.instrument));
  const regimeProbabilities = base.instruments.slice(0, 2).map((instrument) => {
    const probabilities = labels.map(() => new Float64Array(bars));
    const logits = new Float64Array(4);
    for (let t = 0; t < bars; t++) {
      let total = 0;
      for (let k = 0; k < 4; k++) {
        logits[k] = 0.9 * logits[k]! + gaussian(rand);
        total += Math.exp(logits[k]!);
      }
      for (let k = 0; k < 4; k++) probabilities[k]![t] = Math.exp(logits[k]!) / total;
    }
    return { instrument, labels, ts: Float64Array.from(closes), probabilities };
  });
  const withPnl = base.bars.map((b) => {
    const pnl = new Float64Array(bars);
    for (let t = 1; t < bars; t++) pnl[t] = pnl[t - 1]! + b.position[t - 1]! * (b.close[t]! - b.close[t - 1]!);
    return { ...b, pnl };
  });
  return { ...base, name: 'synthetic regime-kelly <annotations>', bars: withPnl, annotations: { tiers, regimeProbabilities } };
}

describe('HTML report in headless Chromium', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tm-report-chromium-'));
  let browser: Browser | undefined;
  afterAll(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('renders every plot without console or page errors', { timeout: 180_000 }, async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} is missing; install it with: apt-get install -y chromium`).toBe(true);
    const started = performance.now();
    const result = syntheticResult(20240601);
    expect(result.fills.length).toBeGreaterThan(50);
    expect(result.trades.length).toBeGreaterThan(20);
    expect(result.funding.length).toBeGreaterThan(100);
    const metrics = computeMetrics(result);
    const { htmlPath, summaryPath } = await writeReport(join(dir, 'run'), result, metrics);
    expect(statSync(summaryPath).size).toBeGreaterThan(0);

    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const consoleErrors: string[] = [];
    const pageErrors: string[] = [];
    const failedRequests: string[] = [];
    page.on('console', (msg) => {
      if (msg.type() === 'error') consoleErrors.push(msg.text());
    });
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    page.on('requestfailed', (r) => failedRequests.push(r.url()));

    await page.goto(pathToFileURL(htmlPath).href, { waitUntil: 'load', timeout: 60_000 });
    // Browser-side code is passed as source text: this project compiles without the DOM lib.
    await page.waitForFunction('window.__plotsRendered !== undefined || window.__plotsError !== undefined', undefined, { timeout: 60_000 });
    const state = (await page.evaluate(`(() => {
      const divs = Array.from(document.querySelectorAll('div.plot'));
      return {
        rendered: window.__plotsRendered,
        error: window.__plotsError,
        ids: divs.map((d) => d.id),
        withSvg: divs.filter((d) => d.querySelector('.main-svg') !== null).map((d) => d.id),
        candlePaths: divs.filter((d) => d.id.startsWith('plot-candles-')).map((d) => d.querySelectorAll('g.trace path').length),
        tradeRows: document.querySelectorAll('#trades-table tbody tr').length,
      };
    })()`)) as { rendered?: number; error?: string; ids: string[]; withSvg: string[]; candlePaths: number[]; tradeRows: number };
    expect(state.error).toBeUndefined();
    expect(state.ids).toEqual(plotIds(result));
    expect(state.rendered).toBe(state.ids.length);
    expect(state.withSvg).toEqual(state.ids);
    for (const n of state.candlePaths) expect(n).toBeGreaterThan(100);
    expect(state.tradeRows).toBe(Math.min(result.trades.length, 2000));

    const outDir = join(process.cwd(), 'test-output');
    mkdirSync(outDir, { recursive: true });
    await page.screenshot({ path: join(outDir, 'report.png'), fullPage: true });

    expect(pageErrors).toEqual([]);
    expect(consoleErrors).toEqual([]);
    expect(failedRequests).toEqual([]);
    console.log(`report-chromium: ${result.instruments.length} instruments × ${result.bars[0]!.ts.length} bars, ${result.fills.length} fills, ${result.trades.length} trades; html ${(statSync(htmlPath).size / 1e6).toFixed(1)} MB; ${((performance.now() - started) / 1000).toFixed(1)} s`);
  });

  it('renders the sizing-tier and regime plots and the tier table of an annotated run', { timeout: 180_000 }, async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} is missing; install it with: apt-get install -y chromium`).toBe(true);
    const result = annotatedResult(20240602);
    expect(result.annotations!.tiers!.filter((t) => t.tier === 'EMERGENCY_FLAT').length).toBeGreaterThan(10);
    const ids = plotIds(result);
    expect(ids.slice(-3)).toEqual(['plot-tiers', 'plot-regime-0', 'plot-regime-1']);
    expect(ids.slice(0, -3)).toEqual(plotIds({ instruments: result.instruments }));
    const { htmlPath } = await writeReport(join(dir, 'annotated'), result);

    browser ??= await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const errors: string[] = [];
    page.on('console', (msg) => void (msg.type() === 'error' && errors.push(msg.text())));
    page.on('pageerror', (e) => void errors.push(String(e)));
    await page.goto(pathToFileURL(htmlPath).href, { waitUntil: 'load', timeout: 60_000 });
    await page.waitForFunction('window.__plotsRendered !== undefined || window.__plotsError !== undefined', undefined, { timeout: 60_000 });
    const state = (await page.evaluate(`(() => {
      const divs = Array.from(document.querySelectorAll('div.plot'));
      return {
        rendered: window.__plotsRendered,
        error: window.__plotsError,
        ids: divs.map((d) => d.id),
        withSvg: divs.filter((d) => d.querySelector('.main-svg') !== null).map((d) => d.id),
        tierTraces: document.querySelectorAll('#plot-tiers g.trace').length,
        regimeTraces: Array.from(document.querySelectorAll('[id^="plot-regime-"]')).map((d) => d.querySelectorAll('g.trace').length),
        tierRows: Array.from(document.querySelectorAll('#tier-attribution tbody th')).map((th) => th.textContent),
      };
    })()`)) as { rendered?: number; error?: string; ids: string[]; withSvg: string[]; tierTraces: number; regimeTraces: number[]; tierRows: string[] };
    expect(state.error).toBeUndefined();
    expect(state.ids).toEqual(ids);
    expect(state.rendered).toBe(ids.length);
    expect(state.withSvg).toEqual(ids);
    expect(state.tierTraces).toBe(3);
    expect(state.regimeTraces).toEqual([5, 5]); // 4 stacked probabilities + the close
    expect(state.tierRows).toEqual(['FULL_RL', 'BLENDED', 'PURE_KELLY', 'EMERGENCY_FLAT', 'none']);
    await (await page.$('#annotations'))!.screenshot({ path: join(process.cwd(), 'test-output', 'report-annotations.png') });
    expect(errors).toEqual([]);
  });
});
