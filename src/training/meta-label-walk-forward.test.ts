import { describe, expect, it } from 'vitest';
import { unwrap } from '../core/result.js';
import { normalDraw, seededRandom } from '../core/random.js';
import { forwardLogReturn } from '../features/index.js';
import { cardMetrics } from './model-package.js';
import { parseTrainConfig, type TrainConfig } from './train-config.js';
import type { TrainingData } from './training-data.js';
import { ALL_SYMBOLS, planFolds, runWalkForward } from './walk-forward.js';

/**
 * `metaLabel` of `tm train` on synthetic data (two symbols, 4 features, one of which predicts the next 6 bars a
 * little): the filter's output, its trials, and causality by perturbation — everything after a test bar is altered
 * (prices, features, labels) and the meta-labelled prediction of that bar must stay bit for bit the same.
 */
const T = 1400;
const D = 4;
const H = 6;

function syntheticData(seed: number): TrainingData {
  const random = seededRandom(seed);
  const ts = Float64Array.from({ length: T }, (_, t) => Date.UTC(2023, 0, 1) + t * 4 * 3_600_000);
  const symbols = ['BTCUSDT', 'ETHUSDT'].map((symbol) => {
    const features = new Float64Array(T * D).map(() => normalDraw(random));
    const close = new Float64Array(T);
    let p = 100;
    for (let t = 0; t < T; t++) {
      // the return of bar t+1 leans on feature 0 of bar t (known at t's close)
      close[t] = p;
      p *= Math.exp(0.004 * (t > 0 ? features[(t - 1) * D]! : 0) + 0.01 * normalDraw(random));
    }
    const forward = forwardLogReturn(close, H);
    return { symbol, open: close.slice(), high: close.map((c) => c * 1.001), low: close.map((c) => c * 0.999), close, volume: new Float64Array(T).fill(1000), features, target: forward.slice(), forwardReturn: forward, funding: null };
  });
  return { venue: 'test', timeframe: '4h', timeframeMs: 4 * 3_600_000, ts, featureNames: ['f0', 'f1', 'f2', 'f3'], featureSpecHash: 'synthetic-spec', horizon: H, symbols };
}

/** Copy of `data` with every row after `t` (close, features, labels, forward returns) replaced at random. */
function alterAfter(data: TrainingData, t: number, seed: number): TrainingData {
  const random = seededRandom(seed);
  return {
    ...data,
    symbols: data.symbols.map((x) => {
      const close = x.close.map((c, i) => (i > t ? c * (0.8 + 0.4 * random()) : c));
      return {
        ...x,
        open: close.slice(),
        high: close.map((c) => c * 1.001),
        low: close.map((c) => c * 0.999),
        close,
        features: x.features.map((v, i) => (Math.floor(i / D) > t ? normalDraw(random) : v)),
        target: x.target.map((v, i) => (i > t ? normalDraw(random) * 0.05 : v)),
        forwardReturn: x.forwardReturn.map((v, i) => (i > t ? normalDraw(random) * 0.05 : v)),
      };
    }),
  };
}

const config: TrainConfig = unwrap(
  parseTrainConfig({
    name: 'meta-unit',
    label: { horizon: H, target: 'log-return' },
    walkForward: { folds: 2, initialTrainFraction: 0.6, purgeGap: 0 },
    boruta: { iterations: 3, trees: 8, maxRows: 400, minFeatures: 4, maxFeatures: 4 },
    gbdt: { rounds: 15, minLeaf: 20 },
    transfer: { rounds: 5 },
    randomForest: { trees: 8, minLeaf: 20 },
    final: 'pooled',
    metaLabel: { rounds: 15, minLeaf: 20 },
  }),
);

describe('tm train metaLabel (walk-forward meta-labelling of the final configuration)', () => {
  const data = syntheticData(3);
  const wf = runWalkForward(data, config);
  const plans = planFolds(T, config.walkForward, H, data.ts);

  it('keeps the primary prediction where the meta model bets, 0 where it skips, NaN outside the test folds', () => {
    const meta = wf.metaLabel!;
    expect(meta.configuration).toBe('pooled');
    const { from, to } = wf.oosRange;
    let bets = 0, total = 0;
    for (let s = 0; s < 2; s++) {
      for (let t = 0; t < T; t++) {
        const v = meta.predictions[s]![t]!, primary = wf.predictions.pooled[s]![t]!;
        if (t < from || t >= to) {
          expect(v).toBeNaN();
          continue;
        }
        total++;
        if (v !== 0) bets++;
        expect(v === 0 || v === primary, `row ${t}`).toBe(true);
      }
    }
    expect(meta.betRate).toBeCloseTo(bets / total, 12);
    // the filter does something: it neither takes every bet nor skips them all
    expect(meta.betRate).toBeGreaterThan(0.05);
    expect(meta.betRate).toBeLessThan(0.95);
    expect(wf.folds.every((f) => f.meta !== undefined && f.meta.trainRows > 100)).toBe(true);
  });

  it('its scores are trials too: 4 configurations + the meta one, × (2 symbols + ALL) = 15, and on the card', () => {
    expect(wf.trials.count).toBe(15);
    expect(wf.trials.names.slice(-3)).toEqual(['pooled+meta/BTCUSDT', 'pooled+meta/ETHUSDT', 'pooled+meta/ALL']);
    expect(Object.keys(wf.metaLabel!.overall)).toEqual(['BTCUSDT', 'ETHUSDT', ALL_SYMBOLS]);
    const card = cardMetrics(wf, data);
    expect(card['meta_label.in_package']).toBe(0);
    expect(card['meta_label.threshold']).toBe(0.5);
    expect(card['meta_label.bet_rate']).toBeCloseTo(wf.metaLabel!.betRate, 12);
    expect(card['oos.pooled+meta.ALL.trades']).toBe(wf.metaLabel!.overall[ALL_SYMBOLS]!.tradeCount);
  });

  it('is deterministic', () => {
    const again = runWalkForward(data, config).metaLabel!;
    expect(again.predictions.map((p) => Array.from(p))).toEqual(wf.metaLabel!.predictions.map((p) => Array.from(p)));
  });

  it('causal: altering everything after a test bar leaves the meta-labelled predictions up to that bar unchanged', () => {
    // purgeGap 0: the purge is exactly h, so a meta-label that read past t + h (a longer vertical barrier, or the
    // test bars) would change these predictions
    for (const [k, offset] of [[0, 0], [0, 37], [1, 5]] as const) {
      const t = plans[k]!.testStart + offset;
      const altered = runWalkForward(alterAfter(data, t, 100 + k), config).metaLabel!;
      for (let s = 0; s < 2; s++) {
        expect(Array.from(altered.predictions[s]!.subarray(0, t + 1)), `fold ${k}, bar ${t}, symbol ${s}`).toEqual(Array.from(wf.metaLabel!.predictions[s]!.subarray(0, t + 1)));
      }
    }
  });

  it('control: altering the bars inside fold 0 training labels changes its meta-labelled predictions', () => {
    const start = plans[0]!.testStart;
    const altered = runWalkForward(alterAfter(data, start - H - 30, 7), config).metaLabel!;
    const changed = [0, 1].some((s) => altered.predictions[s]!.subarray(start, plans[0]!.testEnd).some((v, i) => v !== wf.metaLabel!.predictions[s]![start + i]));
    expect(changed).toBe(true);
  });
});
