import { describe, expect, it } from 'vitest';
import { unwrap } from '../core/result.js';
import { normalDraw, seededRandom } from '../core/random.js';
import { fitGradientBoosting } from '../models/index.js';
import { parseTrainConfig } from './train-config.js';
import { applyGates, planFolds, widenModel } from './walk-forward.js';

const config = unwrap(parseTrainConfig({ name: 'unit' }));

describe('train config', () => {
  it('declares the defaults once: BTC/ETH/SOL 4h binance-spot 2022-01-01..2025-09-01, h = 6, 5 folds, purge 200, gates 0.05 / 0.15 / 0.5', () => {
    expect(config.data).toMatchObject({ venue: 'binance-spot', symbols: ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'], timeframe: '4h', start: '2022-01-01', end: '2025-09-01' });
    expect(config.label.horizon).toBe(6);
    expect(config.walkForward).toMatchObject({ folds: 5, purgeGap: 200, window: 'expanding' });
    expect(config.gates).toEqual({ minIc: 0.05, maxPValue: 0.15, minSharpe: 0.5 });
    expect(config.backtest.takerFee).toBe(0.00055);
    expect(Object.isFrozen(config.walkForward)).toBe(true);
  });

  it('fails on unknown keys and bad values with the JSON path and the value', () => {
    const a = parseTrainConfig({ name: 'x', boruta: { iterations: 30, shadows: 2 } }, 'f.json');
    expect(a.success ? '' : a.error.message).toBe('f.json: $.boruta.shadows: unknown key "shadows": remove it or fix its spelling');
    const b = parseTrainConfig({ name: 'x', walkForward: { folds: 0 } }, 'f.json');
    expect(b.success ? '' : b.error.message).toMatch(/^f\.json: \$\.walkForward\.folds: .*, was 0$/);
    const c = parseTrainConfig({ name: 'x', boruta: { minFeatures: 14, maxFeatures: 13 } });
    expect(c.success).toBe(false);
  });

  it("a bad feature parameter is refused when the config is read, naming the parameter and its value (not the whole params object)", () => {
    const bad = parseTrainConfig({ name: 'x', features: [{ name: 'r', fn: 'log-return', params: { horizon: 0, note: 'a long string that must not be echoed' } }] }, 'f.json');
    expect(bad.success ? '' : bad.error.message).toMatch(/^f\.json: \$\.features\[0\]\.params\.horizon: .*>=1, was 0$/);
    const typo = parseTrainConfig({ name: 'x', features: [{ name: 'r', fn: 'log-returns' }] }, 'f.json');
    expect(typo.success ? '' : typo.error.message).toMatch(/^f\.json: \$\.features\[0\]\.fn: must be one of .*, was "log-returns"$/);
  });
});

describe('planFolds', () => {
  it('splits the rows after the initial window into K folds in time order and purges max(h, purgeGap) bars before each', () => {
    const plans = planFolds(10_000, config.walkForward, 6);
    expect(plans).toHaveLength(5);
    expect(plans[0]!.testStart).toBe(4000);
    expect(plans[4]!.testEnd).toBe(10_000);
    for (let k = 0; k < 5; k++) {
      const p = plans[k]!;
      if (k > 0) expect(p.testStart).toBe(plans[k - 1]!.testEnd);
      expect(p.trainFrom).toBe(0);
      expect(p.trainRows).toBe(p.testStart - 200);
      expect(p.purgedRows).toBe(200);
      expect(p.embargo).toBe(100);
    }
  });

  it('a rolling window keeps the last rollingBars rows before the purge; the purge is never shorter than h', () => {
    const plans = planFolds(10_000, { ...config.walkForward, window: 'rolling', rollingBars: 1000, purgeGap: 2 }, 6);
    expect(plans[2]!.trainFrom).toBe(plans[2]!.testStart - 6 - 1000);
    expect(plans[2]!.trainRows).toBe(1000);
  });

  it('refuses too little data', () => {
    expect(() => planFolds(300, config.walkForward, 6)).toThrow(/keeps .* training rows after a 200-bar purge/);
  });
});

describe('widenModel', () => {
  it('reads full pipeline rows and predicts exactly what the model predicts on the selected columns', () => {
    const random = seededRandom(5);
    const rows = 500;
    const full = new Float64Array(rows * 6).map(() => normalDraw(random));
    const selected = [1, 4];
    const narrow = new Float64Array(rows * 2);
    const y = new Float64Array(rows);
    for (let r = 0; r < rows; r++) {
      narrow[2 * r] = full[6 * r + 1]!;
      narrow[2 * r + 1] = full[6 * r + 4]!;
      y[r] = full[6 * r + 1]! - 0.5 * full[6 * r + 4]! + 0.1 * normalDraw(random);
    }
    const model = fitGradientBoosting({ values: narrow, rows, columns: 2 }, y, { seed: 1, rounds: 20 });
    const wide = widenModel(model, selected, 6);
    expect(wide.featureCount).toBe(6);
    for (let r = 0; r < rows; r++) expect(wide.predictAt(full, r * 6)).toBe(model.predictAt(narrow, r * 2));
  });
});

describe('applyGates', () => {
  it('passes only when IC >= min, p < max and Sharpe > min (a missing Sharpe fails)', () => {
    expect(applyGates({ ic: 0.05, pValue: 0.1, sharpe: 0.6 }, config.gates).passed).toBe(true);
    expect(applyGates({ ic: 0.05, pValue: 0.15, sharpe: 0.6 }, config.gates).pValue.passed).toBe(false);
    expect(applyGates({ ic: 0.2, pValue: 0.01, sharpe: 0.5 }, config.gates).sharpe.passed).toBe(false);
    expect(applyGates({ ic: 0.2, pValue: 0.01, sharpe: null }, config.gates).passed).toBe(false);
  });
});
