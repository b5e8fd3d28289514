/**
 * Every feature function, one pipeline each, on a seeded synthetic market (4h bars of a random walk, funding every
 * 8 h with a gap, daily DVOL with a gap, a correlated reference with unknown bars): the incremental state equals the
 * batch bit for bit (external rows pushed up front or when due, bars skipped in runs); the declared warm-up suffices
 * (exactly for finite windows, within 1e-9 for EMA / Wilder smoothing) and, for finite windows, is the least that
 * does. The real-data form of these checks (DuckDB, the shared data) is feature-pipeline.test.ts; this one needs no
 * file and runs in milliseconds, so mutation testing can afford it.
 */
import { describe, expect, it } from 'vitest';
import { feedIncremental as feed } from '../../test/support/feature-inputs.js';
import { normalDraw, seededRandom } from '../core/random.js';
import { FEATURE_FUNCTIONS } from './feature-functions.js';
import type { FeatureInputs } from './feature-inputs.js';
import { createIncremental, FeaturePipeline } from './feature-pipeline.js';
import { DEFAULT_FEATURE_SPEC, type FeatureSpecEntry } from './feature-spec.js';
import { rollingReturnCorrelation } from './cross-asset.js';
import { dvolChange } from './dvol.js';
import { fundingRateMean } from './funding.js';
import { bollingerPercentB, exponentialMovingAverage, macd, normalizedAverageTrueRange, relativeStrengthIndex, volumeZScore } from './oscillators.js';
import { logReturn } from './returns.js';
import { garmanKlassVolatility, parkinsonVolatility, realizedVolatility } from './volatility.js';

const H4 = 4 * 3_600_000;
const DAY = 86_400_000;
const BARS = 1500;
/** Monday 2024-01-01 00:00 UTC. */
const T0 = Date.UTC(2024, 0, 1);

/** The synthetic market (seeded): every input a feature reads, with gaps in each external one. */
function market(seed: number): FeatureInputs {
  const random = seededRandom(seed);
  const ts = new Float64Array(BARS), open = new Float64Array(BARS), high = new Float64Array(BARS), low = new Float64Array(BARS);
  const close = new Float64Array(BARS), volume = new Float64Array(BARS), referenceClose = new Float64Array(BARS);
  let price = 100, reference = 20_000;
  for (let t = 0; t < BARS; t++) {
    ts[t] = T0 + t * H4;
    const common = normalDraw(random) * 0.01;
    open[t] = price;
    price *= Math.exp(common + normalDraw(random) * 0.01);
    close[t] = price;
    high[t] = Math.max(open[t]!, close[t]!) * (1 + random() * 0.005);
    low[t] = Math.min(open[t]!, close[t]!) * (1 - random() * 0.005);
    volume[t] = Math.exp(3 + normalDraw(random));
    reference *= Math.exp(common + normalDraw(random) * 0.005);
    // The reference unknown at a few bars (another venue's gap).
    referenceClose[t] = t % 211 === 100 ? NaN : reference;
  }
  // Funding at 00, 08 and 16 UTC, none for two days (older than the 16 h a funding value may be).
  const fundingTs: number[] = [], rates: number[] = [];
  for (let s = T0 - 3 * DAY; s <= T0 + BARS * H4; s += DAY / 3) {
    if (s >= T0 + 100 * DAY && s < T0 + 102 * DAY) continue;
    fundingTs.push(s);
    rates.push(0.0001 + normalDraw(random) * 0.0002);
  }
  // DVOL daily closes, none for four days (older than the two days a DVOL value may be).
  const dvolTs: number[] = [], dvol: number[] = [];
  let level = 50;
  for (let d = T0 - 10 * DAY; d <= T0 + BARS * H4; d += DAY) {
    level *= Math.exp(normalDraw(random) * 0.05);
    if (d >= T0 + 150 * DAY && d < T0 + 154 * DAY) continue;
    dvolTs.push(d);
    dvol.push(level);
  }
  return {
    ts,
    timeframeMs: H4,
    open,
    high,
    low,
    close,
    volume,
    referenceClose,
    funding: { ts: Float64Array.from(fundingTs), rate: Float64Array.from(rates) },
    dvol: { ts: Float64Array.from(dvolTs), value: Float64Array.from(dvol) },
  };
}

/** Features smoothed recursively (EMA / Wilder): a warm-up matches a full history to ~1e-13, not bit for bit. */
const RECURSIVE = new Set(['rsi', 'macd', 'atr']);

const x = market(7);
/** The bar whose open is the latest at or before `time`. */
const bar = (time: number) => Math.floor((time - T0) / H4);

describe('every feature function on a synthetic market', () => {
  it('the default spec names every feature function (so the checks below cover each)', () => {
    const used = new Set(DEFAULT_FEATURE_SPEC.map((e) => e.fn));
    expect(Object.keys(FEATURE_FUNCTIONS).filter((fn) => !used.has(fn as never))).toEqual([]);
  });

  for (const entry of DEFAULT_FEATURE_SPEC) {
    describe(`${entry.name} (${entry.fn} ${JSON.stringify(entry.params)})`, () => {
      // Built inside each test, not when the file is collected: a mutant that throws at collection time would pass
      // unseen by mutation testing (no test fails when none is collected).
      const built = () => {
        const pipeline = FeaturePipeline.fromSpec([entry]);
        const batch = pipeline.computeBatch(x);
        return { pipeline, batch, columns: batch.columns, at: (t: number, j: number) => batch.matrix[t * batch.columns + j]! };
      };

      it('incremental equals batch at every bar (Object.is), external rows up front or when due; mostly defined', () => {
        const { pipeline, columns, at } = built();
        for (const mode of ['upfront', 'when-due'] as const) {
          let differ = 0, compared = 0, defined = 0;
          feed(pipeline, x, mode, (t, row) => {
            for (let j = 0; j < columns; j++) {
              if (!Object.is(row[j], at(t, j))) differ++;
              if (at(t, j) === at(t, j)) defined++;
              compared++;
            }
          });
          expect({ mode, differ, compared }).toEqual({ mode, differ: 0, compared: BARS * columns });
          expect(defined).toBeGreaterThan(0.7 * compared); // a reference gap voids a correlation window
        }
      });

      it('bars taken by skip in seeded runs leave every later row equal to the batch', () => {
        const { pipeline, columns, at } = built();
        const random = seededRandom(entry.name.length);
        const skipped = new Uint8Array(BARS);
        for (let t = 0; t < BARS; ) {
          const run = 1 + Math.floor(random() * 250);
          if (random() < 0.5) skipped.fill(1, t, t + run);
          t += run;
        }
        let differ = 0, rows = 0;
        feed(pipeline, x, 'when-due', (t, row) => {
          rows++;
          for (let j = 0; j < columns; j++) if (!Object.is(row[j], at(t, j))) differ++;
        }, 0, (t) => skipped[t] === 1);
        expect(differ).toBe(0);
        expect(rows).toBeGreaterThan(300);
        expect(rows).toBeLessThan(BARS - 300);
      });

      it('a state started the declared warm-up before a bar agrees with the full history from that bar on; for a finite window, one bar later does not', () => {
        const { pipeline, columns, at } = built();
        const warmup = FEATURE_FUNCTIONS[entry.fn].warmup(entry.params);
        expect(Number.isInteger(warmup) && warmup >= 0).toBe(true);
        expect(pipeline.warmupBars).toBe(warmup);
        const start = 1000;
        const fromStart = (from: number) => {
          let worst = 0, differ = 0, compared = 0;
          feed(pipeline, x, 'upfront', (t, row) => {
            if (t < start) return;
            for (let j = 0; j < columns; j++) {
              const b = at(t, j);
              compared++;
              if (Object.is(row[j], b)) continue;
              differ++;
              worst = Math.max(worst, Math.abs(row[j]! - b) / Math.max(Math.abs(b), 1e-3));
            }
          }, from);
          return { worst, differ, compared };
        };
        const warmed = fromStart(start - warmup);
        expect(warmed.compared).toBe((BARS - start) * columns);
        if (RECURSIVE.has(entry.fn)) expect(warmed.worst).toBeLessThan(1e-9);
        else expect(warmed.differ).toBe(0);
        if (warmup > 0 && !RECURSIVE.has(entry.fn)) expect(fromStart(start - warmup + 1).differ).toBeGreaterThan(0);
      });
    });
  }

  it('a recursive feature’s warm-up is needed: a state started only its period before the bar is off by more than 1e-9', () => {
    for (const entry of DEFAULT_FEATURE_SPEC.filter((e: FeatureSpecEntry) => RECURSIVE.has(e.fn))) {
      const pipeline = FeaturePipeline.fromSpec([entry]);
      const batch = pipeline.computeBatch(x);
      const start = 1000;
      const period = Number(entry.params['period'] ?? entry.params['slow']);
      let worst = 0;
      feed(pipeline, x, 'upfront', (t, row) => {
        if (t !== start) return;
        for (let j = 0; j < batch.columns; j++) worst = Math.max(worst, Math.abs(row[j]! - batch.matrix[t * batch.columns + j]!) / Math.max(Math.abs(batch.matrix[t * batch.columns + j]!), 1e-3));
      }, start - 2 * period);
      expect({ name: entry.name, off: worst > 1e-9 }).toEqual({ name: entry.name, off: true });
    }
  });

  it('the default pipeline: the largest warm-up of its features, every feature’s columns, incremental equal to batch', () => {
    const pipeline = FeaturePipeline.fromSpec(DEFAULT_FEATURE_SPEC);
    expect(pipeline.warmupBars).toBe(Math.max(...DEFAULT_FEATURE_SPEC.map((e) => FEATURE_FUNCTIONS[e.fn].warmup(e.params))));
    const batch = pipeline.computeBatch(x);
    const single = DEFAULT_FEATURE_SPEC.flatMap((e) => FeaturePipeline.fromSpec([e]).names);
    expect(batch.names).toEqual(single);
    let differ = 0;
    feed(pipeline, x, 'when-due', (t, row) => {
      for (let j = 0; j < batch.columns; j++) if (!Object.is(row[j], batch.matrix[t * batch.columns + j])) differ++;
    });
    expect(differ).toBe(0);
    // The gaps void the external features once their inputs are older than the staleness limits (16 h, 2 days).
    const column = (name: string) => batch.names.indexOf(name);
    expect(batch.matrix[bar(T0 + 101.5 * DAY) * batch.columns + column('funding_last')]).toBeNaN();
    expect(batch.matrix[bar(T0 + 99.5 * DAY) * batch.columns + column('funding_last')]).not.toBeNaN();
    expect(batch.matrix[bar(T0 + 153.5 * DAY) * batch.columns + column('dvol_level')]).toBeNaN();
    expect(batch.matrix[bar(T0 + 149.5 * DAY) * batch.columns + column('dvol_level')]).not.toBeNaN();
  });

  it('the incremental state reports which inputs are stale, the time of their newest value, its bar count; reset forgets', () => {
    const pipeline = FeaturePipeline.fromSpec(DEFAULT_FEATURE_SPEC);
    const inc = createIncremental(DEFAULT_FEATURE_SPEC, { timeframeMs: H4 });
    expect(inc.names).toEqual(pipeline.names);
    expect(inc.warmupBars).toBe(pipeline.warmupBars);
    expect(inc.lastValueTs('funding')).toBeNaN();
    expect(inc.lastValueTs('dvol')).toBeNaN();
    expect(inc.staleInputs()).toEqual([]); // nothing known yet: nothing stale
    const seen = new Map<number, { stale: string[]; funding: number; dvol: number; fundingAge: number; dvolAge: number }>();
    const gapBars = [bar(T0 + 101.5 * DAY), bar(T0 + 153.5 * DAY), bar(T0 + 99.5 * DAY)];
    let barsAtLastGap = 0;
    const again = feed(pipeline, x, 'when-due', (t, _row, state) => {
      if (!gapBars.includes(t)) return;
      seen.set(t, { stale: state.staleInputs(), funding: state.lastValueTs('funding'), dvol: state.lastValueTs('dvol'), fundingAge: state.fundingAge, dvolAge: state.dvolAge });
      if (t === gapBars[1]) barsAtLastGap = state.bars;
    });
    expect(again.bars).toBe(BARS);
    const f = x.funding!, d = x.dvol!;
    const lastBefore = (ts: Float64Array, time: number) => ts[ts.findLastIndex((v) => v <= time)]!;
    const close = (t: number) => x.ts[t]! + H4;
    const at = (t: number) => ({
      funding: lastBefore(f.ts, close(t)),
      dvol: lastBefore(d.ts, close(t) - DAY),
      fundingAge: close(t) - lastBefore(f.ts, close(t)),
      dvolAge: close(t) - (lastBefore(d.ts, close(t) - DAY) + DAY),
    });
    expect(seen.get(gapBars[2]!)).toEqual({ stale: [], ...at(gapBars[2]!) });
    expect(seen.get(gapBars[0]!)).toEqual({ stale: ['funding'], ...at(gapBars[0]!) });
    expect(seen.get(gapBars[1]!)).toEqual({ stale: ['dvol'], ...at(gapBars[1]!) });
    expect(barsAtLastGap).toBe(gapBars[1]! + 1);
    again.reset();
    expect(again.bars).toBe(0);
    expect([again.lastValueTs('funding'), again.lastValueTs('dvol'), again.fundingAge, again.dvolAge]).toEqual([NaN, NaN, NaN, NaN]);
    expect(again.row.every((v) => v === 0)).toBe(true);
    // After reset it computes from scratch as a new state does.
    let differ = 0;
    const batch = pipeline.computeBatch(x);
    for (let t = 0; t < 50; t++) {
      const row = again.update(x.ts[t]!, x.open[t]!, x.high[t]!, x.low[t]!, x.close[t]!, x.volume[t]!, x.referenceClose![t]!);
      for (let j = 0; j < batch.columns; j++) if (!Object.is(row[j], batch.matrix[t * batch.columns + j])) differ++;
    }
    // No funding or DVOL pushed after reset: only those columns (NaN) differ.
    const external = batch.names.filter((n) => /^(funding|dvol)/.test(n)).length;
    expect(differ).toBeLessThanOrEqual(50 * external);
    expect(differ).toBeGreaterThan(0);
    expect(() => pipeline.createIncremental({ timeframeMs: 0 })).toThrow('`timeframeMs` must be > 0, was 0');
  });

  it('computeBatch refuses inputs of the wrong shape, naming the field', () => {
    const pipeline = FeaturePipeline.fromSpec(DEFAULT_FEATURE_SPEC);
    const bad = (over: Partial<FeatureInputs>) => () => pipeline.computeBatch({ ...x, ...over });
    expect(bad({ timeframeMs: 0 })).toThrow('`timeframeMs` must be > 0, was 0');
    expect(bad({ volume: x.volume.subarray(1) })).toThrow(`\`volume\` must have ${BARS} values like \`ts\`, had ${BARS - 1}`);
    expect(bad({ referenceClose: x.referenceClose!.subarray(1) })).toThrow('`referenceClose` must have');
    const ts = x.ts.slice();
    ts[5] = ts[4]!;
    expect(bad({ ts })).toThrow(`\`ts\` must be strictly increasing, was ${ts[4]} then ${ts[5]} at index 5`);
    expect(bad({ funding: { ts: x.funding!.ts, rate: x.funding!.rate.subarray(1) } })).toThrow('`funding.rate` must have');
    const fts = x.funding!.ts.slice();
    fts[3] = fts[2]!;
    expect(bad({ funding: { ts: fts, rate: x.funding!.rate } })).toThrow('`funding.ts` must be strictly increasing');
    expect(bad({ dvol: { ts: x.dvol!.ts, value: x.dvol!.value.subarray(1) } })).toThrow('`dvol.value` must have');
    const dts = x.dvol!.ts.slice();
    dts[7] = dts[7]! + 3_600_000;
    expect(bad({ dvol: { ts: dts, value: x.dvol!.value } })).toThrow(`\`dvol.ts\` must be days at 00:00 UTC, was ${dts[7]} at index 7`);
    const dts2 = x.dvol!.ts.slice();
    dts2[1] = dts2[0]!;
    expect(bad({ dvol: { ts: dts2, value: x.dvol!.value } })).toThrow('`dvol.ts` must be strictly increasing');
    expect(bad({ funding: undefined })).toThrow('inputs.funding is required');
  });
});

describe('the batch functions check their own parameters (callers outside a spec: notebooks, research code)', () => {
  it('one below each minimum is refused with the feature, parameter, minimum and value named; the minimum is taken', () => {
    const c = x.close.subarray(0, 60), h = x.high.subarray(0, 60), l = x.low.subarray(0, 60), o = x.open.subarray(0, 60), v = x.volume.subarray(0, 60);
    const closes = Float64Array.from({ length: 60 }, (_, t) => x.ts[t]! + H4);
    const cases: [string, string, number, (k: number) => unknown][] = [
      ['log-return', 'horizon', 1, (k) => logReturn(c, k)],
      ['realized-volatility', 'window', 2, (k) => realizedVolatility(c, k)],
      ['parkinson-volatility', 'window', 1, (k) => parkinsonVolatility(h, l, k)],
      ['garman-klass-volatility', 'window', 1, (k) => garmanKlassVolatility(o, h, l, c, k)],
      ['ema', 'period', 1, (k) => exponentialMovingAverage(c, k)],
      ['rsi', 'period', 1, (k) => relativeStrengthIndex(c, k)],
      ['macd', 'fast', 1, (k) => macd(c, k, 26, 9, true)],
      ['macd', 'slow', 2, (k) => macd(c, 1, k, 9, true)],
      ['macd', 'signal', 1, (k) => macd(c, 12, 26, k, true)],
      ['atr', 'period', 1, (k) => normalizedAverageTrueRange(h, l, c, k)],
      ['bollinger-percent-b', 'window', 2, (k) => bollingerPercentB(c, k, 2)],
      ['volume-zscore', 'window', 2, (k) => volumeZScore(v, k, true)],
      ['reference-correlation', 'window', 2, (k) => rollingReturnCorrelation(c, x.referenceClose!.subarray(0, 60), k)],
      ['funding-rate-mean', 'count', 1, (k) => fundingRateMean(closes, x.funding!, k)],
      ['dvol-change', 'days', 1, (k) => dvolChange(closes, x.dvol!, k)],
    ];
    for (const [feature, param, min, call] of cases) {
      expect(() => call(min - 1)).toThrow(`${feature}: \`${param}\` must be an integer >= ${min}, was ${min - 1}`);
      expect(() => call(min + 0.5)).toThrow(`${feature}: \`${param}\` must be an integer >= ${min}, was ${min + 0.5}`);
      expect(() => call(min)).not.toThrow();
    }
    expect(() => macd(c, 26, 26, 9, true)).toThrow('macd: `fast` must be < `slow` (26), was 26');
    expect(() => bollingerPercentB(c, 20, 0)).toThrow('bollinger-percent-b: `width` must be > 0, was 0');
    expect(() => bollingerPercentB(c, 20, NaN)).toThrow('bollinger-percent-b: `width` must be > 0, was NaN');
  });
});
