import { describe, expect, it } from 'vitest';
import { labelEnds, parseModelTableConfig, quantile, TABLE_ROWS } from './model-table.js';
import type { TrainingData } from './training-data.js';

describe('model table helpers', () => {
  it('quantile interpolates linearly between order statistics (type 7) and ignores NaN', () => {
    expect(quantile([3, 1, 2, NaN, 5, 4], 0.5)).toBe(3);
    expect(quantile([1, 2, 3, 4, 5], 0.05)).toBeCloseTo(1.2, 12); // h = 4 · 0.05 = 0.2
    expect(quantile([1, 2, 3, 4, 5], 0.95)).toBeCloseTo(4.8, 12);
    expect(Number.isNaN(quantile([NaN], 0.5))).toBe(true);
  });

  it('labelEnds takes the later of t + h and the triple barrier\'s end for a long and a short bet on every symbol', () => {
    const close = (v: number[]) => Float64Array.from(v);
    const data = {
      ts: new Float64Array(6),
      horizon: 1,
      symbols: [{ close: close([100, 100, 100, 100, 100, 100]) }, { close: close([100, 100.5, 100.2, 103, 103, 103]) }],
    } as unknown as TrainingData;
    const sigma = [new Float64Array(6).fill(0.01), new Float64Array(6).fill(0.01)];
    // symbol 0 never moves: no barrier, the vertical one ends at t + 3 (t + maxBars past the data when unknown)
    const ends = labelEnds(data, sigma, { profit: 2, stop: 2, maxBars: 3, volatilityWindow: 2 });
    expect(Array.from(ends)).toEqual([3, 4, 5, 6, 7, 8]);
    // maxBars 1: symbol 1's barriers decide nothing earlier than t + 1 = t + h
    expect(Array.from(labelEnds(data, sigma, { profit: 2, stop: 2, maxBars: 1, volatilityWindow: 2 }))).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('has every tree configuration with and without meta, then ridge', () => {
    expect(TABLE_ROWS.map((r) => r.key)).toEqual(['pooled', 'pooled+meta', 'per-symbol', 'per-symbol+meta', 'transfer', 'transfer+meta', 'random-forest', 'random-forest+meta', 'ridge']);
  });

  it('parses a config with defaults and names the path of a bad value', () => {
    const ok = parseModelTableConfig({ name: 'x', train: { name: 'x' } });
    expect(ok.success && ok.data.cpcv).toEqual({ groups: 6, testGroups: 2 });
    const bad = parseModelTableConfig({ name: 'x', train: { name: 'x' }, cpcv: { groups: 4, testGroups: 4 } }, 'f.json');
    expect(!bad.success && bad.error.message).toMatch(/^f\.json: \$\.cpcv\.testGroups: must be < cpcv\.groups/);
    const odd = parseModelTableConfig({ name: 'x', train: { name: 'x' }, pbo: { blocks: 5 } });
    expect(!odd.success && odd.error.message).toMatch(/\$\.pbo\.blocks: must be even/);
    const unknown = parseModelTableConfig({ name: 'x', train: { name: 'x' }, meta: { treshold: 0.5 } });
    expect(unknown.success).toBe(false);
  });
});
