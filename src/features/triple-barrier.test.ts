import { describe, expect, it } from 'vitest';
import { BARRIER, metaLabels, tripleBarrierLabels } from './triple-barrier.js';

const f = (...v: number[]) => Float64Array.from(v);
const flat = (n: number, v: number) => new Float64Array(n).fill(v);

describe('tripleBarrierLabels (hand-computed paths)', () => {
  it('finds the first barrier touched: profit, stop, vertical, and NaN when the data stops first', () => {
    // σ = 0.01, barriers ±2σ = ±0.02 in log return, vertical after 3 bars
    const close = f(100, 101, 103, 99, 99.5, 99.8, 100.2);
    const r = tripleBarrierLabels(close, flat(7, 0.01), { profit: 2, stop: 2, maxBars: 3 });
    // t=0: ln(101/100)=0.00995, ln(103/100)=0.0296 >= 0.02 -> profit at bar 2
    // t=1: ln(103/101)=0.0196 < 0.02; ln(99/101)=-0.0200007 <= -0.02 -> stop at bar 3
    // t=2: ln(99/103)=-0.0396 -> stop at bar 3
    // t=3: 99.5, 99.8, 100.2 stay inside ±0.02 of 99 -> vertical at bar 6, ln(100.2/99)=0.0120 > 0 -> +1
    // t=4: vertical at bar 7 is past the data and no barrier is touched -> NaN
    expect(Array.from(r.label)).toEqual([1, -1, -1, 1, NaN, NaN, NaN]);
    expect(Array.from(r.end)).toEqual([2, 3, 3, 6, -1, -1, -1]);
    expect(Array.from(r.barrier)).toEqual([BARRIER.profit, BARRIER.stop, BARRIER.stop, BARRIER.vertical, 0, 0, 0]);
    expect(r.ret[0]).toBeCloseTo(0.02, 15); // the barrier level, not the overshoot
    expect(r.ret[3]).toBeCloseTo(Math.log(100.2 / 99), 15);
    expect(Array.from(tripleBarrierLabels(close, flat(7, 0.01), { profit: 2, stop: 2, maxBars: 3, vertical: 'zero' }).label)[3]).toBe(0);
  });

  it('is decided early inside the data even when the vertical barrier lies beyond it', () => {
    const r = tripleBarrierLabels(f(100, 100, 110), flat(3, 0.01), { profit: 1, stop: 1, maxBars: 10 });
    expect(Array.from(r.label)).toEqual([1, 1, NaN]);
    expect(Array.from(r.end)).toEqual([2, 2, -1]);
  });

  it('counts touching a barrier exactly as a hit (inclusive) and scales barriers by each bar\'s own σ', () => {
    const close = f(100, 100 * Math.exp(0.03), 100 * Math.exp(0.03));
    // t=0 with σ=0.01 and profit 3: exactly on the barrier -> profit; with σ=0.02 (barrier 0.06) -> vertical at bar 2
    expect(tripleBarrierLabels(close, f(0.01, 1, 1), { profit: 3, stop: 3, maxBars: 2 }).barrier[0]).toBe(BARRIER.profit);
    const wide = tripleBarrierLabels(close, f(0.02, 1, 1), { profit: 3, stop: 3, maxBars: 2 });
    expect(wide.barrier[0]).toBe(BARRIER.vertical);
    expect(wide.label[0]).toBe(1);
  });

  it('resolves a bar touching both barriers (high/low) as the stop and flags the tie', () => {
    const close = f(100, 100, 100);
    const high = f(100, 100.5, 103);
    const low = f(100, 99.5, 97);
    // bar 1 stays inside ±2 %; bar 2's high (+2.96 %) and low (-3.05 %) both cross -> tie -> stop
    const r = tripleBarrierLabels(close, flat(3, 0.01), { profit: 2, stop: 2, maxBars: 5, high, low });
    expect(r.label[0]).toBe(-1);
    expect(r.tie[0]).toBe(1);
    expect(r.end[0]).toBe(2);
    expect(r.ret[0]).toBeCloseTo(-0.02, 15);
    // the same path on closes only never touches a barrier (vertical beyond the data -> NaN)
    expect(Number.isNaN(tripleBarrierLabels(close, flat(3, 0.01), { profit: 2, stop: 2, maxBars: 5 }).label[0])).toBe(true);
  });

  it('takes the side: a short wins when the price falls; side 0 / NaN gives no label', () => {
    const close = f(100, 97, 96);
    const side = f(-1, 1, 0);
    const r = tripleBarrierLabels(close, flat(3, 0.01), { profit: 2, stop: 2, maxBars: 1, side });
    expect(r.label[0]).toBe(1); // short: -ln(97/100) = 0.0305 >= 0.02
    expect(r.ret[0]).toBeCloseTo(0.02, 15);
    expect(r.label[1]).toBe(-1); // long from 97: ln(96/97) = -0.0104 at the vertical barrier -> sign -1
    expect(r.barrier[1]).toBe(BARRIER.vertical);
    expect(Number.isNaN(r.label[2]!)).toBe(true);
    expect(Array.from(metaLabels(r))).toEqual([1, 0, NaN]);
    // with high/low a short's favourable extreme is the low, its adverse the high
    const hl = tripleBarrierLabels(f(100, 100), flat(2, 0.01), { profit: 2, stop: 2, maxBars: 1, side: f(-1, -1), high: f(100, 102.5), low: f(100, 99.9) });
    expect(hl.label[0]).toBe(-1);
    expect(hl.barrier[0]).toBe(BARRIER.stop);
  });

  it('gives NaN for missing entry price or volatility, and stops at a missing price before any decision', () => {
    const close = f(NaN, 100, 100.5, NaN, 120, 100, 100);
    const vol = f(0.01, NaN, 0.01, 0.01, 0.01, 0, 0.01);
    const r = tripleBarrierLabels(close, vol, { profit: 2, stop: 2, maxBars: 3 });
    expect(Number.isNaN(r.label[0]!)).toBe(true); // no entry price
    expect(Number.isNaN(r.label[1]!)).toBe(true); // no volatility
    expect(Number.isNaN(r.label[2]!)).toBe(true); // bar 3 is NaN before any barrier: unknown whether it crossed
    expect(r.end[2]).toBe(-1);
    expect(Number.isNaN(r.label[5]!)).toBe(true); // σ = 0
    const decidedFirst = tripleBarrierLabels(f(100, 103, NaN), flat(3, 0.01), { profit: 2, stop: 2, maxBars: 2 });
    expect(decidedFirst.label[0]).toBe(1); // decided at bar 1, the later NaN does not matter
  });

  it('rejects bad parameters with the parameter named', () => {
    expect(() => tripleBarrierLabels(f(1, 2), flat(2, 0.1), { profit: 0, stop: 1, maxBars: 1 })).toThrow(/`profit` must be a finite number > 0/);
    expect(() => tripleBarrierLabels(f(1, 2), flat(2, 0.1), { profit: 1, stop: 1, maxBars: 1.5 })).toThrow(/`maxBars` must be an integer >= 1, was 1.5/);
    expect(() => tripleBarrierLabels(f(1, 2), flat(3, 0.1), { profit: 1, stop: 1, maxBars: 1 })).toThrow(/`volatility` must have 2 values/);
    expect(() => tripleBarrierLabels(f(1, 2), flat(2, 0.1), { profit: 1, stop: 1, maxBars: 1, high: f(1, 2) })).toThrow(/`high` and `low` must be given together/);
  });

  it('names every bad parameter and length, with its code and context', () => {
    const ok = { profit: 1, stop: 1, maxBars: 1 };
    const error = (options: Parameters<typeof tripleBarrierLabels>[2]) => {
      try {
        tripleBarrierLabels(f(1, 2), flat(2, 0.1), options);
      } catch (e) {
        const { code, message, context } = e as { code: string; message: string; context: unknown };
        return { code, message, context };
      }
      return undefined;
    };
    const cases: [Parameters<typeof tripleBarrierLabels>[2], string, unknown][] = [
      [{ ...ok, profit: NaN }, 'triple-barrier: `profit` must be a finite number > 0 (volatility units), was NaN', { profit: NaN }],
      [{ ...ok, profit: Infinity }, 'triple-barrier: `profit` must be a finite number > 0 (volatility units), was Infinity', { profit: Infinity }],
      [{ ...ok, stop: 0 }, 'triple-barrier: `stop` must be a finite number > 0 (volatility units), was 0', { stop: 0 }],
      [{ ...ok, stop: Infinity }, 'triple-barrier: `stop` must be a finite number > 0 (volatility units), was Infinity', { stop: Infinity }],
      [{ ...ok, maxBars: 0 }, 'triple-barrier: `maxBars` must be an integer >= 1, was 0', { maxBars: 0 }],
      [{ ...ok, vertical: 'up' as never }, 'triple-barrier: `vertical` must be \'sign\' or \'zero\', was "up"', { vertical: 'up' }],
      [{ ...ok, side: f(1) }, 'triple-barrier: `side` must have 2 values like `close`, had 1', { name: 'side', length: 1 }],
      [{ ...ok, high: f(1, 2), low: f(1) }, 'triple-barrier: `low` must have 2 values like `close`, had 1', { name: 'low', length: 1 }],
      [{ ...ok, low: f(1, 2) }, 'triple-barrier: `high` and `low` must be given together', { high: false, low: true }],
    ];
    for (const [options, message, context] of cases) expect(error(options)).toEqual({ code: 'invalid_feature_params', message, context });
    expect(error({ ...ok, vertical: 'zero', side: f(1, -1), high: f(1, 2), low: f(1, 2) })).toBeUndefined();
  });

  it('with highs and lows: a bar before the decision with any price missing, zero or infinite leaves the label unknown; a short’s profit is at the low', () => {
    const base = { close: f(100, 100.5, 103), high: f(100, 101, 103.5), low: f(100, 99.8, 102.5) };
    const options = { profit: 2, stop: 2, maxBars: 3 };
    const label = (x: typeof base, side?: Float64Array) => tripleBarrierLabels(x.close, flat(3, 0.01), { ...options, high: x.high, low: x.low, ...(side ? { side } : {}) });
    expect(label(base).label[0]).toBe(1); // the high of bar 2: ln(103.5/100) >= 0.02
    for (const field of ['close', 'high', 'low'] as const) {
      for (const bad of [NaN, 0, Infinity]) {
        const x = { ...base, [field]: base[field].slice() };
        x[field][1] = bad;
        expect({ field, bad, label: label(x).label[0], end: label(x).end[0] }).toEqual({ field, bad, label: NaN, end: -1 });
      }
    }
    // Short: profit when the low falls 2σ below the entry, stop when the high rises 2σ above it.
    const falling = { close: f(100, 99.5, 99), high: f(100, 100.2, 99.5), low: f(100, 99.1, 97.9) };
    const short = label(falling, f(-1, -1, -1));
    expect([short.label[0], short.end[0], short.barrier[0]]).toEqual([1, 2, BARRIER.profit]);
    const rising = label(base, f(-1, -1, -1));
    expect([rising.label[0], rising.end[0], rising.barrier[0]]).toEqual([-1, 2, BARRIER.stop]);
  });

  it('a decision without an entry price, a positive finite σ or a side of ±1 is unknown', () => {
    const close = f(100, 0, NaN, Infinity, 100, 100, 100, 100, 100, 103, 103);
    const vol = f(0.01, 0.01, 0.01, 0.01, 0, NaN, Infinity, 0.01, 0.01, 0.01, 0.01);
    const side = f(1, 1, 1, 1, 1, 1, 1, 0, 2, 1, 1);
    const r = tripleBarrierLabels(close, vol, { profit: 2, stop: 2, maxBars: 10, side });
    expect(Array.from(r.end.subarray(1, 9))).toEqual([-1, -1, -1, -1, -1, -1, -1, -1]);
    expect(r.end[0]).toBe(-1); // bar 1's close 0 stops the path: unknown
  });
});

describe('tripleBarrierLabels causality', () => {
  it('perturbing prices after a label\'s end (or the whole future of an unknown label) changes nothing up to it', () => {
    let x = 1;
    const rand = () => ((x = (x * 48271) % 2147483647) / 2147483647);
    const n = 400;
    const close = new Float64Array(n);
    close[0] = 100;
    for (let t = 1; t < n; t++) close[t] = close[t - 1]! * Math.exp((rand() - 0.5) * 0.03);
    const high = close.map((c) => c * (1 + rand() * 0.004));
    const low = close.map((c) => c * (1 - rand() * 0.004));
    const vol = flat(n, 0.01);
    const side = Float64Array.from({ length: n }, () => (rand() < 0.5 ? -1 : 1));
    const options = { profit: 1.5, stop: 1, maxBars: 12, side, high, low };
    const base = tripleBarrierLabels(close, vol, options);
    for (const t of [0, 37, 150, 260, 391]) {
      const cut = base.end[t]! >= 0 ? base.end[t]! + 1 : n; // perturb every bar after label t's end
      const p = (a: Float64Array) => a.map((v, i) => (i >= cut ? v * (1 + (rand() - 0.5) * 0.5) : v));
      const moved = tripleBarrierLabels(p(close), vol, { ...options, high: p(high), low: p(low) });
      for (let u = 0; u <= t; u++) {
        if (base.end[u]! >= 0 && base.end[u]! < cut) {
          expect(moved.label[u], `label ${u} after perturbing from ${cut}`).toBe(base.label[u]);
          expect(moved.end[u]).toBe(base.end[u]);
          expect(moved.ret[u]).toBe(base.ret[u]);
        }
      }
    }
    // and a label whose end is e never reads bar e+1: truncating the data right after e gives the same label
    for (let t = 0; t < n; t += 17) {
      const e = base.end[t]!;
      if (e < 0) continue;
      const cut = (a: Float64Array) => a.slice(0, e + 1);
      const short = tripleBarrierLabels(cut(close), cut(vol), { ...options, side: cut(side), high: cut(high), low: cut(low) });
      expect(short.label[t]).toBe(base.label[t]);
      expect(short.end[t]).toBe(e);
    }
  });
});
