import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { feedIncremental } from '../../test/support/feature-inputs.js';
import { sharedDataDir } from '../../test/support/shared-data.js';
import { seededRandom } from '../core/random.js';
import { importPath, loadBars, MarketStore } from '../data/index.js';
import {
  DEFAULT_FEATURE_SPEC,
  FeaturePipeline,
  featureInputsFromFrame,
  featureInputsFromStore,
  logMomentum,
  type FeatureInputs,
  type FeatureMatrix,
  type IncrementalFeatures,
} from './index.js';
import { FEATURE_FUNCTIONS } from './feature-functions.js';

/**
 * Differential test of the two paths of one pipeline on real data: the incremental state, fed bar by bar, must
 * reproduce the batch matrix bit for bit (Object.is) for every feature and every bar.
 */
let store: MarketStore;
const inputs: Record<string, FeatureInputs> = {};
const pipeline = FeaturePipeline.fromSpec(DEFAULT_FEATURE_SPEC);

beforeAll(async () => {
  const root = sharedDataDir();
  store = await MarketStore.open(':memory:');
  await importPath(store, join(root, 'binance-spot'));
  for (const s of ['BTCUSDT', 'ETHUSDT', 'SOLUSDT']) await importPath(store, join(root, 'binance-futures', `${s}-funding.csv.gz`));
  await importPath(store, join(root, 'deribit', 'BTC-DVOL-1d.csv.gz'));
  for (const symbol of ['BTCUSDT', 'ETHUSDT', 'SOLUSDT']) {
    inputs[symbol] = await featureInputsFromStore(store, { venue: 'binance-spot', symbol, timeframe: '4h', fundingVenue: 'binance-futures', dvol: true, reference: 'BTCUSDT' });
  }
});

afterAll(() => store?.close());

type Feed = 'upfront' | 'when-due';

/** The default pipeline's incremental path over `x` (see feedIncremental). */
const runIncremental = (x: FeatureInputs, feed: Feed, check: (t: number, row: Float64Array) => void, from = 0, skip?: (t: number) => boolean): IncrementalFeatures => feedIncremental(pipeline, x, feed, check, from, skip);

function compareAll(m: FeatureMatrix, x: FeatureInputs, feed: Feed): { mismatches: Record<string, number>; compared: number; defined: number[] } {
  const mismatches: Record<string, number> = {};
  const defined = new Array<number>(m.columns).fill(0);
  let compared = 0;
  let rowObject: Float64Array | undefined;
  runIncremental(x, feed, (t, row) => {
    rowObject ??= row;
    expect(row).toBe(rowObject); // the same preallocated row every bar
    for (let j = 0; j < m.columns; j++) {
      const b = m.matrix[t * m.columns + j]!;
      if (!Object.is(row[j], b)) mismatches[m.names[j]!] = (mismatches[m.names[j]!] ?? 0) + 1;
      if (b === b) defined[j]!++;
      compared++;
    }
  });
  return { mismatches, compared, defined };
}

describe('incremental vs batch on real data (binance-spot 4h + binance-futures funding + Deribit DVOL, BTC reference)', () => {
  for (const symbol of ['ETHUSDT', 'BTCUSDT', 'SOLUSDT']) {
    for (const feed of ['upfront', 'when-due'] as const) {
      it(`${symbol}: every feature at every bar is identical (Object.is), external rows pushed ${feed}`, () => {
        const x = inputs[symbol]!;
        const m = pipeline.computeBatch(x);
        const { mismatches, compared, defined } = compareAll(m, x, feed);
        expect(mismatches).toEqual({});
        expect(compared).toBe(m.rows * m.columns);
        // Every feature is actually defined on a large share of the bars (the comparison is not NaN vs NaN).
        const weak = m.names.filter((_, j) => defined[j]! < (symbol === 'SOLUSDT' && /^funding/.test(m.names[j]!) ? 1000 : 3000));
        expect(weak).toEqual([]);
      });
    }
  }

  it('the 42-bar log return column equals logMomentum(close, 42)', () => {
    const x = inputs['ETHUSDT']!;
    const m = pipeline.computeBatch(x);
    const j = m.names.indexOf('log_return_42');
    const mom = logMomentum(x.close, 42);
    let differ = 0;
    for (let t = 0; t < m.rows; t++) if (!Object.is(m.matrix[t * m.columns + j], mom[t])) differ++;
    expect(differ).toBe(0);
  });

  it(`a live state started warmupBars before t agrees with the full-history batch from t on (finite windows exactly, EMA/Wilder to 1e-9)`, () => {
    const x = inputs['ETHUSDT']!;
    const m = pipeline.computeBatch(x);
    const start = 9000;
    const from = start - pipeline.warmupBars;
    let worst = 0;
    const inexact = new Set<string>();
    runIncremental(
      x,
      'upfront',
      (t, row) => {
        if (t < start) return;
        for (let j = 0; j < m.columns; j++) {
          const b = m.matrix[t * m.columns + j]!;
          if (Object.is(row[j], b)) continue;
          inexact.add(m.names[j]!);
          worst = Math.max(worst, Math.abs(row[j]! - b) / Math.max(Math.abs(b), 1e-3));
        }
      },
      from,
    );
    expect([...inexact].every((n) => /^(rsi|macd|atr)/.test(n))).toBe(true);
    expect(worst).toBeLessThan(1e-9);
  });

  it('bars taken by skip (state only, no features) leave every later row identical to the batch (Object.is): every kernel, seeded runs of skips', () => {
    // The default spec has a kernel of every feature function, so a kernel whose skip forgets its state fails here.
    const used = new Set(DEFAULT_FEATURE_SPEC.map((e) => e.fn));
    expect(Object.keys(FEATURE_FUNCTIONS).filter((fn) => !used.has(fn as never))).toEqual([]);
    for (const symbol of ['ETHUSDT', 'SOLUSDT']) {
      const x = inputs[symbol]!;
      const m = pipeline.computeBatch(x);
      // Runs of skipped bars of random lengths (1..600: longer than every window), then runs of computed bars.
      const rand = seededRandom(symbol === 'ETHUSDT' ? 11 : 12);
      const skipped = new Uint8Array(x.ts.length);
      for (let t = 0; t < x.ts.length; ) {
        const run = 1 + Math.floor(rand() * 600);
        if (rand() < 0.6) skipped.fill(1, t, t + run);
        t += run;
      }
      let checked = 0, differ = 0, definedChecked = 0;
      runIncremental(
        x,
        'when-due',
        (t, row) => {
          for (let j = 0; j < m.columns; j++) {
            const b = m.matrix[t * m.columns + j]!;
            if (!Object.is(row[j], b)) differ++;
            if (b === b) definedChecked++;
          }
          checked++;
        },
        0,
        (t) => skipped[t] === 1,
      );
      expect(differ).toBe(0);
      expect(checked).toBeGreaterThan(1000);
      expect(checked).toBeLessThan(x.ts.length - 1000);
      expect(definedChecked).toBeGreaterThan(checked * m.columns * 0.5);
    }
  });

  it('a warm-up replay that computes only its last 3 bars gives those bars the features of an uninterrupted run', () => {
    const x = inputs['BTCUSDT']!;
    const m = pipeline.computeBatch(x);
    const last = 9000;
    const rows: number[] = [];
    runIncremental(x, 'upfront', (t, row) => {
      if (t > last) return;
      for (let j = 0; j < m.columns; j++) if (!Object.is(row[j], m.matrix[t * m.columns + j])) rows.push(t);
      rows.push(-t - 1);
    }, 0, (t) => t < last - 2);
    expect(rows).toEqual([-(last - 2) - 1, -(last - 1) - 1, -last - 1]);
  });

  it('update rejects bars out of time order', () => {
    const inc = pipeline.createIncremental({ timeframeMs: 4 * 3_600_000 });
    inc.update(1000, 1, 1, 1, 1, 1, 1);
    expect(() => inc.update(1000, 1, 1, 1, 1, 1, 1)).toThrow('bar open times must be strictly increasing');
    inc.reset();
    expect(inc.bars).toBe(0);
    inc.update(0, 1, 1, 1, 1, 1, 1);
    expect(inc.bars).toBe(1);
  });
});

describe('featureInputsFromStore', () => {
  it('aligns the reference close, loads funding up to the last close and DVOL only for closed days', () => {
    const x = inputs['SOLUSDT']!;
    const btc = inputs['BTCUSDT']!;
    const lastClose = x.ts[x.ts.length - 1]! + x.timeframeMs;
    const k = btc.ts.indexOf(x.ts[0]!);
    expect(k).toBeGreaterThan(0);
    for (let t = 0; t < x.ts.length; t += 97) expect(x.referenceClose![t]).toBe(btc.close[k + t]);
    expect(x.funding!.ts[x.funding!.ts.length - 1]!).toBeLessThanOrEqual(lastClose);
    expect(x.dvol!.ts[x.dvol!.ts.length - 1]! + 86_400_000).toBeLessThanOrEqual(lastClose);
    expect(x.present!.every((p) => p === 1)).toBe(true);
    expect(inputs['ETHUSDT']!.present!.filter((p) => p === 0).length).toBe(5);
  });

  it('featureInputsFromFrame gives the same bars and reference close from a multi-symbol BarFrame', async () => {
    const frame = await loadBars(store, { venue: 'binance-spot', symbols: ['BTCUSDT', 'ETHUSDT'], timeframe: '4h', missing: 'forward-fill' });
    const { funding, dvol } = inputs['ETHUSDT']!;
    const fromFrame = featureInputsFromFrame(frame, 'ETHUSDT', { reference: 'BTCUSDT', funding: funding!, dvol: dvol! });
    const a = pipeline.computeBatch(fromFrame);
    const b = pipeline.computeBatch(inputs['ETHUSDT']!);
    expect(a.rows).toBe(b.rows);
    let differ = 0;
    for (let i = 0; i < a.matrix.length; i++) if (!Object.is(a.matrix[i], b.matrix[i])) differ++;
    expect(differ).toBe(0);
    expect(() => featureInputsFromFrame(frame, 'SOLUSDT')).toThrow("`symbol` must be one of the frame's symbols BTCUSDT, ETHUSDT, was \"SOLUSDT\"");
  });

  it('fails naming a missing funding series', async () => {
    await expect(featureInputsFromStore(store, { venue: 'binance-spot', symbol: 'ETHUSDT', timeframe: '4h', fundingVenue: 'bybit' })).rejects.toThrow('no funding settlements for ETHUSDT on bybit');
  });
});
