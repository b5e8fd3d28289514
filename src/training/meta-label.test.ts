import { describe, expect, it } from 'vitest';
import { metaLabels, tripleBarrierLabels } from '../features/index.js';
import { fitMetaLabelModel, metaFeatureMatrix, metaLabelSignal } from './meta-label.js';

describe('meta-labelling', () => {
  it('appends the primary prediction and its size to each row', () => {
    const m = metaFeatureMatrix({ values: Float64Array.of(1, 2, 3, 4), rows: 2, columns: 2 }, Float64Array.of(-0.5, 0.25));
    expect(m.columns).toBe(4);
    expect(Array.from(m.values)).toEqual([1, 2, -0.5, 0.5, 3, 4, 0.25, 0.25]);
    expect(() => metaFeatureMatrix({ values: Float64Array.of(1, 2), rows: 2, columns: 1 }, Float64Array.of(1))).toThrow(/one prediction per matrix row \(2\), had 1/);
  });

  it('takes the bet above the threshold, skips it (flat) at or below, NaN where unknown', () => {
    expect(Array.from(metaLabelSignal(Float64Array.of(0.3, -0.2, 0.1, NaN, 0.4), Float64Array.of(0.7, 0.4, 0.5, 0.9, NaN), 0.5))).toEqual([0.3, 0, 0, NaN, NaN]);
  });

  it('learns when a primary model is right: bets of a side that wins only in one regime are skipped in the other', () => {
    // a feature x in {0, 1}; the primary always goes long; prices rise when x = 1 and fall when x = 0
    const n = 600;
    const x = Float64Array.from({ length: n }, (_, t) => Math.floor(t / 20) % 2);
    const close = new Float64Array(n);
    close[0] = 100;
    for (let t = 1; t < n; t++) close[t] = close[t - 1]! * (x[t - 1] === 1 ? 1.02 : 0.98);
    const side = new Float64Array(n).fill(1);
    const labels = metaLabels(tripleBarrierLabels(close, new Float64Array(n).fill(0.01), { profit: 1, stop: 1, maxBars: 3, side }));
    // bar t's bet is decided by bar t+1's move, which x[t] sets: wins exactly when x[t] = 1
    for (let t = 0; t < n - 1; t++) expect(labels[t]).toBe(x[t]);
    const rows = n - 1;
    const base = { values: x.slice(0, rows), rows, columns: 1 };
    const primary = new Float64Array(rows).fill(0.2);
    const model = fitMetaLabelModel(metaFeatureMatrix(base, primary), labels.slice(0, rows), { seed: 3, rounds: 30, maxDepth: 2, minLeaf: 5, learningRate: 0.3, subsample: 1, featureFraction: 1 });
    const probability = new Float64Array(2);
    model.predictInto(metaFeatureMatrix({ values: Float64Array.of(0, 1), rows: 2, columns: 1 }, Float64Array.of(0.2, 0.2)).values, 2, probability);
    expect(probability[0]).toBeLessThan(0.1);
    expect(probability[1]).toBeGreaterThan(0.9);
    expect(Array.from(metaLabelSignal(Float64Array.of(0.2, 0.2), probability, 0.5))).toEqual([0, 0.2]);
    expect(() => fitMetaLabelModel(base, Float64Array.from({ length: rows }, () => 0.5), { seed: 1 })).toThrow(/target\[0\] must be 0 or 1, was 0.5/);
  });
});
