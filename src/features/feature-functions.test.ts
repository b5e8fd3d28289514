import { describe, expect, it } from 'vitest';
import { seededRandom } from '../core/random.js';
import { DAY_MS, HOUR_MS } from '../core/time.js';
import {
  bollingerPercentB,
  calendarFeatures,
  dvolChange,
  dvolLevel,
  exponentialMovingAverage,
  fundingRateLast,
  fundingRateMean,
  garmanKlassVolatility,
  logMomentum,
  logReturn,
  macd,
  normalizedAverageTrueRange,
  parkinsonVolatility,
  realizedVolatility,
  relativeStrengthIndex,
  rollingReturnCorrelation,
  volumeZScore,
} from './index.js';

/** A random-walk bar series (seeded) with consistent OHLC. */
function bars(n: number, seed = 1) {
  const rnd = seededRandom(seed);
  const open = new Float64Array(n);
  const high = new Float64Array(n);
  const low = new Float64Array(n);
  const close = new Float64Array(n);
  const volume = new Float64Array(n);
  let p = 100;
  for (let t = 0; t < n; t++) {
    open[t] = p;
    p *= Math.exp((rnd() - 0.5) * 0.04);
    close[t] = p;
    high[t] = Math.max(open[t]!, p) * (1 + rnd() * 0.01);
    low[t] = Math.min(open[t]!, p) * (1 - rnd() * 0.01);
    volume[t] = 10 + rnd() * 100;
  }
  return { open, high, low, close, volume };
}

const NaNs = (a: Float64Array, from: number, to: number) => Array.from(a.subarray(from, to)).every(Number.isNaN);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sampleStd = (xs: number[]) => {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
};
const close12 = (a: number, b: number) => expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(b)));

describe('returns and volatility (against textbook formulas)', () => {
  const b = bars(300);

  it('logReturn is ln(close[t]/close[t-h]) and equals logMomentum', () => {
    const r = logReturn(b.close, 6);
    expect(NaNs(r, 0, 6)).toBe(true);
    close12(r[10]!, Math.log(b.close[10]! / b.close[4]!));
    expect(Array.from(r)).toEqual(Array.from(logMomentum(b.close, 6)));
  });

  it('realizedVolatility is the sample std of the last w one-bar log returns, first at t = w', () => {
    const w = 20;
    const v = realizedVolatility(b.close, w);
    expect(NaNs(v, 0, w)).toBe(true);
    for (const t of [w, 100, 299]) {
      const rs = Array.from({ length: w }, (_, k) => Math.log(b.close[t - k]! / b.close[t - k - 1]!));
      close12(v[t]!, sampleStd(rs));
    }
  });

  it('Parkinson and Garman–Klass follow their formulas, first at t = w - 1', () => {
    const w = 10;
    const pk = parkinsonVolatility(b.high, b.low, w);
    const gk = garmanKlassVolatility(b.open, b.high, b.low, b.close, w);
    expect(NaNs(pk, 0, w - 1) && NaNs(gk, 0, w - 1)).toBe(true);
    const t = 150;
    const idx = Array.from({ length: w }, (_, k) => t - k);
    close12(pk[t]!, Math.sqrt(mean(idx.map((i) => Math.log(b.high[i]! / b.low[i]!) ** 2)) / (4 * Math.log(2))));
    const gkVar = mean(idx.map((i) => 0.5 * Math.log(b.high[i]! / b.low[i]!) ** 2 - (2 * Math.log(2) - 1) * Math.log(b.close[i]! / b.open[i]!) ** 2));
    close12(gk[t]!, Math.sqrt(gkVar));
  });

  it('rejects bad windows, naming the param and value', () => {
    expect(() => realizedVolatility(b.close, 1)).toThrow('realized-volatility: `window` must be an integer >= 2, was 1');
    expect(() => logReturn(b.close, 0)).toThrow('`horizon` must be an integer >= 1, was 0');
    expect(() => macd(b.close, 26, 12, 9, false)).toThrow('`fast` must be < `slow` (12), was 26');
  });
});

describe('smoothed indicators (seeding stated in the docs)', () => {
  const b = bars(400, 2);

  it('EMA is seeded with the simple mean of the first n values, then alpha = 2/(n+1); leading NaNs are skipped', () => {
    const x = Float64Array.of(NaN, NaN, 1, 2, 3, 4, 5);
    const e = exponentialMovingAverage(x, 3);
    expect(NaNs(e, 0, 4)).toBe(true);
    expect(e[4]).toBe(2);
    expect(e[5]).toBe(2 + 0.5 * (4 - 2));
    expect(e[6]).toBe(3 + 0.5 * (5 - 3));
  });

  it('RSI matches a textbook Wilder implementation; first value at t = period', () => {
    const p = 14;
    const rsi = relativeStrengthIndex(b.close, p);
    expect(NaNs(rsi, 0, p)).toBe(true);
    let g = 0;
    let l = 0;
    for (let t = 1; t <= p; t++) {
      const d = b.close[t]! - b.close[t - 1]!;
      g += Math.max(d, 0) / p;
      l += Math.max(-d, 0) / p;
    }
    close12(rsi[p]!, 100 - 100 / (1 + g / l));
    for (let t = p + 1; t < 400; t++) {
      const d = b.close[t]! - b.close[t - 1]!;
      g = (g * (p - 1) + Math.max(d, 0)) / p;
      l = (l * (p - 1) + Math.max(-d, 0)) / p;
    }
    expect(Math.abs(rsi[399]! - (100 - 100 / (1 + g / l)))).toBeLessThan(1e-9);
    expect(relativeStrengthIndex(Float64Array.of(1, 2, 3, 4), 2)[3]).toBe(100);
    expect(relativeStrengthIndex(Float64Array.of(1, 1, 1, 1), 2)[3]).toBe(50);
  });

  it('MACD line/signal/histogram start at slow-1 and slow+signal-2, and normalise by close', () => {
    const m = macd(b.close, 12, 26, 9, false);
    expect(NaNs(m.line, 0, 25) && !Number.isNaN(m.line[25]!)).toBe(true);
    expect(NaNs(m.signal, 0, 33) && !Number.isNaN(m.signal[33]!)).toBe(true);
    const fast = exponentialMovingAverage(b.close, 12);
    const slow = exponentialMovingAverage(b.close, 26);
    expect(m.line[200]).toBe(fast[200]! - slow[200]!);
    expect(Array.from(m.signal)).toEqual(Array.from(exponentialMovingAverage(m.line, 9)));
    expect(m.histogram[200]).toBe(m.line[200]! - m.signal[200]!);
    const n = macd(b.close, 12, 26, 9, true);
    expect(n.line[200]).toBe(m.line[200]! / b.close[200]!);
  });

  it('ATR/close is Wilder-smoothed true range seeded with mean(TR[1..p]); first at t = period', () => {
    const p = 5;
    const atr = normalizedAverageTrueRange(b.high, b.low, b.close, p);
    expect(NaNs(atr, 0, p)).toBe(true);
    const tr = (t: number) => Math.max(b.high[t]! - b.low[t]!, Math.abs(b.high[t]! - b.close[t - 1]!), Math.abs(b.low[t]! - b.close[t - 1]!));
    let a = mean([1, 2, 3, 4, 5].map(tr));
    close12(atr[p]!, a / b.close[p]!);
    a = (a * (p - 1) + tr(6)) / p;
    close12(atr[6]!, a / b.close[6]!);
  });

  it('Bollinger %b uses the population std; volume z-score the sample std of ln(1+v)', () => {
    const w = 20;
    const pb = bollingerPercentB(b.close, w, 2);
    expect(NaNs(pb, 0, w - 1)).toBe(true);
    const xs = Array.from(b.close.subarray(100 - w + 1, 101));
    const m = mean(xs);
    const sd = Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / w);
    close12(pb[100]!, (b.close[100]! - (m - 2 * sd)) / (4 * sd));
    expect(bollingerPercentB(new Float64Array(30).fill(5), 20, 2)[29]).toBe(0.5);
    const z = volumeZScore(b.volume, 42, true);
    expect(NaNs(z, 0, 41)).toBe(true);
    const lv = Array.from(b.volume.subarray(200 - 41, 201), (v) => Math.log1p(v));
    close12(z[200]!, (lv[41]! - mean(lv)) / sampleStd(lv));
  });
});

describe('funding and DVOL timing', () => {
  const H = HOUR_MS;
  // 4h bars opening 00:00, 04:00, ... of day 0; closes 04:00, 08:00, ...
  const barClose = Float64Array.from({ length: 12 }, (_, t) => (t + 1) * 4 * H);

  it('a settlement at s is used from bar closes >= s; means need `count` settlements', () => {
    const funding = { ts: Float64Array.of(0, 8 * H, 16 * H, 24 * H), rate: Float64Array.of(1, 2, 3, 4) };
    const last = fundingRateLast(barClose, funding);
    // closes 04 08 12 16 20 24 28 ...
    expect(Array.from(last.subarray(0, 7))).toEqual([1, 2, 2, 3, 3, 4, 4]);
    const m2 = fundingRateMean(barClose, funding, 2);
    expect(Array.from(m2.subarray(0, 6))).toEqual([NaN, 1.5, 1.5, 2.5, 2.5, 3.5]);
    expect(Number.isNaN(fundingRateLast(barClose, { ts: Float64Array.of(100 * H), rate: Float64Array.of(1) })[11]!)).toBe(true);
  });

  it('DVOL day D is used only from bar closes >= D + 24h; changes look days up by date', () => {
    const D = 10 * DAY_MS;
    const dvol = { ts: Float64Array.of(D - 7 * DAY_MS, D - DAY_MS, D, D + DAY_MS), value: Float64Array.of(40, 50, 55, 60) };
    const closes = Float64Array.of(D, D + 4 * H, D + DAY_MS - 1, D + DAY_MS, D + 2 * DAY_MS);
    expect(Array.from(dvolLevel(closes, dvol))).toEqual([50, 50, 50, 55, 60]);
    const c1 = dvolChange(closes, dvol, 1);
    expect(Number.isNaN(c1[0]!)).toBe(true);
    expect(c1[3]).toBe(Math.log(55 / 50));
    expect(dvolChange(closes, dvol, 6)[0]).toBe(Math.log(50 / 40));
  });
});

describe('cross-asset and calendar', () => {
  it('correlation of identical return series is 1, of negated -1', () => {
    const b = bars(100, 3);
    const inv = Float64Array.from(b.close, (c) => 1e4 / c);
    const c1 = rollingReturnCorrelation(b.close, b.close, 20);
    expect(NaNs(c1, 0, 20)).toBe(true);
    close12(c1[50]!, 1);
    close12(rollingReturnCorrelation(b.close, inv, 20)[50]!, -1);
  });

  it('encodes the bar CLOSE time: a 4h bar opening Mon 2024-01-01 20:00 closes Tue 00:00', () => {
    const close = Date.UTC(2024, 0, 2, 0, 0);
    const c = calendarFeatures(Float64Array.of(close, Date.UTC(2024, 0, 6, 18, 0)));
    expect([c.hourSin[0], c.hourCos[0]]).toEqual([0, 1]);
    close12(c.weekdaySin[0]!, Math.sin((2 * Math.PI * 2) / 7));
    close12(c.hourSin[1]!, Math.sin((2 * Math.PI * 18) / 24));
    close12(c.weekdayCos[1]!, Math.cos((2 * Math.PI * 6) / 7));
  });
});
