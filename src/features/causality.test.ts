import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeFuture } from '../../test/support/feature-inputs.js';
import { sharedDataDir } from '../../test/support/shared-data.js';
import { seededRandom, type Random } from '../core/random.js';
import { DAY_MS, HOUR_MS } from '../core/time.js';
import { importPath, MarketStore } from '../data/index.js';
import { DEFAULT_FEATURE_SPEC, FeaturePipeline, featureInputsFromStore, type FeatureInputs, type FeatureMatrix } from './index.js';

/**
 * Look-ahead test on real data. For every feature of the default spec and each checkpoint bar t, the rows 0..t of the
 * feature matrix must not change when (a) everything after t is altered at random (bars, reference close, funding
 * settlements after t's close, DVOL days not yet closed at t's close — including the day in progress), or (b) removed.
 * The same check must flag deliberately leaky features (bottom of the file), so it can fail.
 */
const SEED = 20_250_901;
const TF = 4 * HOUR_MS;

type Compute = (x: FeatureInputs) => FeatureMatrix;
type Variant = 'altered' | 'removed';
interface Leak {
  readonly feature: string;
  readonly checkpoint: number;
  readonly variant: Variant;
  /** First bar <= checkpoint whose value changed, and its values before/after. */
  readonly bar: number;
  readonly before: number;
  readonly after: number;
}

/** Copy of `x` with every input not known at bar t's close replaced by random values (seeded). */
function alterFuture(x: FeatureInputs, t: number, random: Random): FeatureInputs {
  const n = x.ts.length;
  const cut = x.ts[t]! + x.timeframeMs;
  const scale = (a: Float64Array): Float64Array => {
    const b = a.slice();
    for (let i = t + 1; i < n; i++) b[i] = a[i]! * (0.5 + random());
    return b;
  };
  const rate = x.funding!.rate.slice();
  x.funding!.ts.forEach((s, i) => {
    if (s > cut) rate[i] = (random() - 0.5) * 0.01;
  });
  const value = x.dvol!.value.slice();
  x.dvol!.ts.forEach((d, i) => {
    if (d + DAY_MS > cut) value[i] = 20 + random() * 100;
  });
  return {
    ...x,
    open: scale(x.open),
    high: scale(x.high),
    low: scale(x.low),
    close: scale(x.close),
    volume: scale(x.volume),
    referenceClose: scale(x.referenceClose!),
    funding: { ts: x.funding!.ts, rate },
    dvol: { ts: x.dvol!.ts, value },
  };
}

/**
 * Returns every (feature, checkpoint, variant) whose rows 0..t changed, and the features whose values after t changed
 * under (a) at some checkpoint (evidence the alteration reached them).
 */
function findLeaks(compute: Compute, x: FeatureInputs, checkpoints: readonly number[]): { leaks: Leak[]; reachedAfter: Set<string> } {
  const base = compute(x);
  const d = base.columns;
  const leaks: Leak[] = [];
  const reachedAfter = new Set<string>();
  for (const t of checkpoints) {
    const variants: [Variant, FeatureInputs][] = [
      ['altered', alterFuture(x, t, seededRandom(SEED + t))],
      ['removed', removeFuture(x, t)],
    ];
    for (const [variant, changed] of variants) {
      const m = compute(changed);
      expect(m.names).toEqual(base.names);
      for (let j = 0; j < d; j++) {
        for (let i = 0; i <= t; i++) {
          const before = base.matrix[i * d + j]!;
          const after = m.matrix[i * d + j]!;
          if (!Object.is(before, after)) {
            leaks.push({ feature: base.names[j]!, checkpoint: t, variant, bar: i, before, after });
            break;
          }
        }
        if (variant === 'altered') {
          for (let i = t + 1; i < base.rows; i++) {
            if (!Object.is(base.matrix[i * d + j], m.matrix[i * d + j])) {
              reachedAfter.add(base.names[j]!);
              break;
            }
          }
        }
      }
    }
  }
  return { leaks, reachedAfter };
}

/** Checkpoints: edges, seeded random bars, and bars around a DVOL day boundary, funding settlements and each series' start. */
function checkpointsFor(x: FeatureInputs, random: Random): number[] {
  const n = x.ts.length;
  const closeAt = (ms: number) => x.ts.indexOf(ms - TF);
  const around = (t: number) => [t - 1, t, t + 1];
  const firstSettlement = x.ts.findIndex((ts) => ts + TF >= x.funding!.ts[0]!);
  const firstDvol = x.ts.findIndex((ts) => ts + TF >= x.dvol!.ts[0]! + DAY_MS);
  const late = x.ts.findIndex((ts) => ts >= Date.UTC(2024, 5, 1));
  const picks = [
    0,
    1,
    2,
    n - 2,
    ...around(firstSettlement),
    ...around(firstDvol),
    // DVOL day boundaries: bars closing at 00:00 (day D - 1 becomes usable) and the bars just before/after.
    ...around(closeAt(Date.UTC(2023, 2, 15))),
    ...around(closeAt(Date.UTC(2024, 11, 31))),
    // Funding settlements at 08:00 and 16:00 UTC: bars closing exactly then, and neighbours.
    ...around(closeAt(Date.UTC(2024, 1, 29, 8))),
    ...around(closeAt(Date.UTC(2025, 6, 4, 16))),
  ];
  for (let k = 0; k < 6; k++) picks.push(late + Math.floor(random() * (n - 2 - late)));
  for (let k = 0; k < 2; k++) picks.push(200 + Math.floor(random() * (late - 200)));
  const out = [...new Set(picks)].filter((t) => t >= 0 && t < n - 1).sort((a, b) => a - b);
  expect(out.length).toBeGreaterThanOrEqual(20);
  return out;
}

let store: MarketStore;
const inputs: Record<string, FeatureInputs> = {};
const pipeline = FeaturePipeline.fromSpec(DEFAULT_FEATURE_SPEC);
const compute: Compute = (x) => pipeline.computeBatch(x);

beforeAll(async () => {
  const root = sharedDataDir();
  store = await MarketStore.open(':memory:');
  await importPath(store, join(root, 'binance-spot'));
  for (const s of ['ETHUSDT', 'SOLUSDT']) await importPath(store, join(root, 'binance-futures', `${s}-funding.csv.gz`));
  await importPath(store, join(root, 'deribit', 'BTC-DVOL-1d.csv.gz'));
  const request = { venue: 'binance-spot', timeframe: '4h', fundingVenue: 'binance-futures', dvol: true, reference: 'BTCUSDT' } as const;
  for (const symbol of ['ETHUSDT', 'SOLUSDT']) inputs[symbol] = await featureInputsFromStore(store, { ...request, symbol });
  // A shorter stretch (still real data, DVOL starting inside it) for the leak demonstrations.
  inputs['ETHUSDT-2022'] = await featureInputsFromStore(store, { ...request, symbol: 'ETHUSDT', start: Date.UTC(2022, 5, 1) });
});

afterAll(() => store?.close());

describe('causality of the default feature spec on real data', () => {
  it('ETHUSDT: no feature value at or before t changes when the future is altered or removed', () => {
    const x = inputs['ETHUSDT']!;
    const checkpoints = checkpointsFor(x, seededRandom(SEED));
    const { leaks, reachedAfter } = findLeaks(compute, x, checkpoints);
    expect(leaks).toEqual([]);
    // Non-vacuous: every feature is defined at the late checkpoints, and the alteration changed every feature
    // that reads altered data (calendar reads only bar times, which are not altered).
    const base = compute(x);
    const undefinedAtLate = base.names.filter((_, j) => checkpoints.filter((t) => x.ts[t]! >= Date.UTC(2023, 0, 1)).some((t) => Number.isNaN(base.matrix[t * base.columns + j]!)));
    expect(undefinedAtLate).toEqual([]);
    expect(base.names.filter((n) => !reachedAfter.has(n))).toEqual(['calendar.hour_sin', 'calendar.hour_cos', 'calendar.weekday_sin', 'calendar.weekday_cos']);
  }, 120_000);

  it('SOLUSDT (funding starts mid-series, 2025-02-01): no look-ahead either', () => {
    const x = inputs['SOLUSDT']!;
    const { leaks } = findLeaks(compute, x, checkpointsFor(x, seededRandom(SEED + 1)));
    expect(leaks).toEqual([]);
  }, 120_000);
});

describe('the causality check catches deliberately leaky features', () => {
  /** The default pipeline plus one extra column computed by `leaky`. */
  const withColumn = (name: string, leaky: (x: FeatureInputs) => Float64Array): Compute => (x) => {
    const m = pipeline.computeBatch(x);
    const extra = leaky(x);
    const columns = m.columns + 1;
    const matrix = new Float64Array(m.rows * columns);
    for (let t = 0; t < m.rows; t++) {
      matrix.set(m.matrix.subarray(t * m.columns, (t + 1) * m.columns), t * columns);
      matrix[t * columns + m.columns] = extra[t]!;
    }
    return { names: [...m.names, name], rows: m.rows, columns, matrix };
  };
  const leaky: Record<string, (x: FeatureInputs) => Float64Array> = {
    // Centred 5-bar moving average of the close: reads close[t+1], close[t+2].
    centred_ma_5: (x) => Float64Array.from(x.close, (_, t) => (t >= 2 && t + 2 < x.close.length ? (x.close[t - 2]! + x.close[t - 1]! + x.close[t]! + x.close[t + 1]! + x.close[t + 2]!) / 5 : NaN)),
    // DVOL of day D used from D 00:00 instead of D + 24h (the day's close is not known yet).
    dvol_same_day: (x) => {
      const d = x.dvol!;
      let j = -1;
      return Float64Array.from(x.ts, (ts) => {
        while (j + 1 < d.ts.length && d.ts[j + 1]! <= ts + x.timeframeMs) j++;
        return j >= 0 ? d.value[j]! : NaN;
      });
    },
    // Funding settlement used one bar early (ts <= close + one bar).
    funding_one_bar_early: (x) => {
      const f = x.funding!;
      let j = -1;
      return Float64Array.from(x.ts, (ts) => {
        while (j + 1 < f.ts.length && f.ts[j + 1]! <= ts + 2 * x.timeframeMs) j++;
        return j >= 0 ? f.rate[j]! : NaN;
      });
    },
    // Close z-scored with the mean and std of the whole sample (a classic normalisation leak).
    full_sample_zscore: (x) => {
      const n = x.close.length;
      const mean = x.close.reduce((a, b) => a + b, 0) / n;
      const sd = Math.sqrt(x.close.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
      return Float64Array.from(x.close, (c) => (c - mean) / sd);
    },
  };

  for (const [name, fn] of Object.entries(leaky)) {
    it(`flags ${name} (and only it)`, () => {
      const x = inputs['ETHUSDT-2022']!;
      const { leaks } = findLeaks(withColumn(name, fn), x, checkpointsFor(x, seededRandom(SEED)));
      expect(leaks.length).toBeGreaterThan(0);
      expect(new Set(leaks.map((l) => l.feature))).toEqual(new Set([name]));
      const first = leaks[0]!;
      console.info(`causality check caught ${name}: ${leaks.length} (checkpoint, variant) pairs; first at checkpoint ${first.checkpoint} (${new Date(x.ts[first.checkpoint]! + TF).toISOString()} close), ${first.variant}: bar ${first.bar} ${first.before} -> ${first.after}`);
    }, 120_000);
  }
});
