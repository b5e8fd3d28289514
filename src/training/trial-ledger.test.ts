import { describe, expect, it } from 'vitest';
import { deflatedSharpeRatio, expectedMaxSharpe } from './stats.js';
import { deflatedSharpeFromTrials, trialConfigHash } from './trial-ledger.js';

describe('trial ledger and the Deflated Sharpe over every configuration tried', () => {
  it('hashes configurations canonically (key order does not matter, values do)', () => {
    expect(trialConfigHash({ b: 1, a: { y: [1, 2], x: 'q' } })).toBe(trialConfigHash({ a: { x: 'q', y: [1, 2] }, b: 1 }));
    expect(trialConfigHash({ a: 1 })).not.toBe(trialConfigHash({ a: 2 }));
    expect(trialConfigHash({ a: [1, 2] })).not.toBe(trialConfigHash({ a: [2, 1] }));
    expect(trialConfigHash({ a: 1 })).toMatch(/^[0-9a-f]{16}$/);
  });

  it('counts distinct configurations (a re-run counts once, last record wins) and their Sharpe variance (hand-computed)', () => {
    const ledger = [
      { configHash: 'a', name: 'gbdt-pooled', sharpe: 0.02, observations: 1000 },
      { configHash: 'b', name: 'rf-pooled', sharpe: 0.01, observations: 1000 },
      { configHash: 'a', name: 'gbdt-pooled (re-run)', sharpe: 0.03, observations: 1000 },
      { configHash: 'c', name: 'gbdt-transfer', sharpe: -0.01, observations: 1000 },
    ];
    const selected = { sharpe: 0.03, observations: 1000, skewness: 0, kurtosis: 3 };
    const r = deflatedSharpeFromTrials(ledger, selected);
    // Sharpes 0.03, 0.01, −0.01: mean 0.01, variance ((0.02)² + 0 + (0.02)²) / 2 = 4e-4
    expect(r.trials).toBe(3);
    expect(r.sharpeVariance).toBeCloseTo(4e-4, 15);
    expect(r.benchmarkSharpe).toBeCloseTo(expectedMaxSharpe(4e-4, 3), 15);
    expect(r.dsr).toBe(deflatedSharpeRatio({ ...selected, trials: 3, sharpeVariance: r.sharpeVariance }).dsr);
    // more zero-skill trials raise the bar
    const more = [...ledger, ...Array.from({ length: 20 }, (_, i) => ({ configHash: `n${i}`, name: `noise-${i}`, sharpe: (i % 2 ? 1 : -1) * 0.02, observations: 1000 }))];
    expect(deflatedSharpeFromTrials(more, selected).dsr).toBeLessThan(r.dsr);
  });

  it('rejects an empty ledger or a non-finite Sharpe', () => {
    expect(() => deflatedSharpeFromTrials([], { sharpe: 0, observations: 10, skewness: 0, kurtosis: 3 })).toThrow(/`ledger` must hold >= 1 trial/);
    expect(() => deflatedSharpeFromTrials([{ configHash: 'a', name: 'x', sharpe: NaN, observations: 1 }], { sharpe: 0, observations: 10, skewness: 0, kurtosis: 3 })).toThrow(/trial x \(a\) must have a finite sharpe, was NaN/);
  });
});
