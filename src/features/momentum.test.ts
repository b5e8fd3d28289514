import { describe, expect, it } from 'vitest';
import { computeFeature, logMomentum } from './index.js';

describe('logMomentum', () => {
  it('is ln(close[t] / close[t - lookback]) with NaN warm-up', () => {
    const out = logMomentum(Float64Array.of(100, 110, 121, 121), 2);
    expect(Number.isNaN(out[0]!) && Number.isNaN(out[1]!)).toBe(true);
    expect(out[2]).toBeCloseTo(Math.log(1.21), 15);
    expect(out[3]).toBeCloseTo(Math.log(1.1), 15);
  });

  it('is causal: changing future closes never changes past values', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    for (let trial = 0; trial < 50; trial++) {
      const n = 30 + Math.floor(rnd() * 50);
      const close = Float64Array.from({ length: n }, () => 50 + rnd() * 100);
      const lookback = 1 + Math.floor(rnd() * 10);
      const cut = Math.floor(rnd() * n);
      const base = logMomentum(close, lookback);
      const changed = close.slice();
      for (let t = cut + 1; t < n; t++) changed[t] = 50 + rnd() * 100;
      const out = logMomentum(changed, lookback);
      expect(Array.from(out.subarray(0, cut + 1))).toEqual(Array.from(base.subarray(0, cut + 1)));
    }
  });

  it('propagates NaN closes and rejects a bad lookback, naming it', () => {
    const out = logMomentum(Float64Array.of(1, NaN, 2, 4), 1);
    expect([out[1], out[2]].every(Number.isNaN)).toBe(true);
    expect(out[3]).toBeCloseTo(Math.log(2), 15);
    expect(() => logMomentum(new Float64Array(3), 0)).toThrow('`lookback` must be an integer >= 1, was 0');
  });
});

describe('computeFeature', () => {
  const bars = { open: new Float64Array(3), high: new Float64Array(3), low: new Float64Array(3), close: Float64Array.of(1, 2, 4), volume: new Float64Array(3) };
  it('computes a registered feature', () => {
    expect(computeFeature('log-momentum', bars, { lookback: 1 })[2]).toBeCloseTo(Math.log(2), 15);
  });
  it('names unknown features and bad params', () => {
    expect(() => computeFeature('nope', bars, {})).toThrow('feature must be one of log-momentum, was "nope"');
    expect(() => computeFeature('log-momentum', bars, { lookback: 1, extra: 2 })).toThrow('params.extra');
    expect(() => computeFeature('log-momentum', bars, { lookback: 'x' })).toThrow('params.lookback');
  });
});
