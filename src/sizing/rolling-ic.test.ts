/**
 * StrykerJS mutants of rolling-ic.ts left undetected by these tests, all equivalent. The list is the measured one:
 * every survivor and no-coverage mutant of the run at 29166f5 (91.76 %: 279 killed, 44 timeout, 28 survived, 1 no
 * coverage; line:column there, rolling-ic.ts unchanged since), less 182:14 and 185:14 (y-side tie scan and tie-group
 * syy term), which the 'tied returns' tests below kill. Each was applied by hand and the tests still passed; a
 * per-file run with these tests (at 2f153d9) left exactly these 27: 92.33 %, 282 killed, 43 timeout, 26 survived, 1 no
 * coverage.
 * - 112:17 `pairCount < w ? pairCount : w` → `<=` (step) and 157:19 `pairCount > window ? next : 0` → `>=`
 *   (windowPairs): at pairCount === window both branches give the same value (w; `next` has wrapped to 0).
 * - 158:21 windowPairs' `i < n` → `i <= n`: the extra pass writes `predictions[n]` / `returns[n]`, one past the end of
 *   a Float64Array of length n, which is a silent no-op (it reads x[s], y[s] at a valid slot s = (first + n) mod window).
 * - 201:22 / 201:33 updateIc's `sxx > 0 && syy > 0` guard (→ `true`, `||`, `sxx > 0` → `true`, `sxx >= 0`, `syy > 0`
 *   → `true`, `syy >= 0`) and the same six at 252:10 / 252:21 in `spearman`: sxx, syy are sums of squares (>= 0,
 *   never NaN), and a side with sxx or syy = 0 is one tie group whose every centered rank is exactly 0, so sxy = 0 and
 *   sxy / √(sxx·syy) = 0 / 0 = NaN, the guard's own answer.
 * - 242:7 `spearman`'s `if (n < 2) return NaN` → `if (false)`: with 0 or 1 pair sxx = 0 (one rank, equal to the mean),
 *   so the guard above returns NaN anyway.
 * - 257:98 ranksOf's tie-break `|| a - b` → `|| a + b`: V8's TimSort (Node 20) only ever calls the comparator as
 *   (later index, earlier index) — the stable-merge discipline; checked on 7 million calls over random arrays with ties
 *   and NaN — so a > b >= 0 and a − b, a + b are both positive at every call: the same sort, for any input (NaN too).
 *   An engine property, not a language guarantee.
 * - 259:19 ranksOf's `i < n` → `i <= n`, 261:12 `j < n` → `true` / `j <= n`, 263:21 `m < j` → `m <= j`: the extra
 *   steps read `order[n]` = undefined, so `values[undefined]` is undefined (never === a number: the tie scan stops)
 *   and `ranks[undefined] = …` sets a named property "undefined" on the Float64Array, no rank; `m <= j` inside the
 *   array writes ranks[order[j]], the next group's first member, which that group's own pass then overwrites.
 * - 275:9 insertSorted's `sorted[mid] <= value` → `<`: a new value goes before its equals instead of after; only the
 *   order inside a tie group changes, and updateIc works per tie group (one shared rank) while removeSorted scans the
 *   group for the slot (a longer scan: slower, same result).
 * - 288:10 removeSorted's `while (lo < hi)` → `false` / `lo >= hi` (n >= 3, so never entered) and 290:9
 *   `if (sorted[mid] < value)` → `if (false)` (the search ends at 0): the binary search becomes lo = 0 and the slot
 *   scan then walks from 0 to the slot's position — unique, so the same position, in O(position) instead of
 *   O(log n) comparisons: same result, slower.
 * - 293:10 removeSorted's `while (slots[lo] !== slot)` → `false`, and 293:30 its `lo++` → `lo--` (no coverage): the
 *   scan never runs. insertSorted puts each value after its equals, so a tie group is ordered oldest first, and the
 *   slot removed is always the window's oldest pair: the first of its tie group, exactly where the lower-bound search
 *   lands.
 */
import { describe, expect, it } from 'vitest';
import { garbageCollectionsDuring } from '../../test/support/gc.js';
import { normalDraw, seededRandom } from '../core/random.js';
import { RollingIc, spearman } from './rolling-ic.js';
import { SizingError } from './sizing-error.js';

/** A seeded bar series: predictions with some ties and NaNs, correlated with the next h-bar return. */
function series(n: number, seed: number, h: number): { predictions: Float64Array; closes: Float64Array } {
  const random = seededRandom(seed);
  const noise = Float64Array.from({ length: n + h }, () => normalDraw(random) * 0.01);
  const closes = new Float64Array(n);
  let logClose = Math.log(100);
  for (let t = 0; t < n; t++) {
    if (t > 0) logClose += noise[t]!;
    closes[t] = Math.exp(logClose);
  }
  const predictions = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    let future = 0;
    for (let j = 1; j <= h; j++) future += noise[t + j] ?? 0;
    // rounded to 3 levels of 0.002 → many ties; every 17th bar has no prediction
    const raw = 0.3 * future + normalDraw(random) * 0.01;
    predictions[t] = t % 17 === 5 ? Number.NaN : Math.round(raw / 0.002) * 0.002;
  }
  return { predictions, closes };
}

/** The window's pairs built from scratch: (prediction at s, ln(close_{s+h} / close_s)) for s + h <= t, last `window`. */
function pairsAt(predictions: Float64Array, closes: Float64Array, h: number, window: number, t: number): { x: number[]; y: number[] } {
  const x: number[] = [], y: number[] = [];
  for (let s = 0; s + h <= t; s++) {
    if (Number.isNaN(predictions[s]!)) continue;
    x.push(predictions[s]!);
    y.push(Math.log(closes[s + h]!) - Math.log(closes[s]!));
  }
  return { x: x.slice(-window), y: y.slice(-window) };
}

describe('spearman (from-scratch reference)', () => {
  it('matches hand-computed values, with average ranks for ties', () => {
    // y ranks [1, 2, 3.5, 5, 3.5]; Σdxdy = 8, Σdx² = 10, Σdy² = 9.5 → 8 / √95 (scipy.stats.spearmanr: 0.8207826816681233)
    expect(spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7])).toBeCloseTo(8 / Math.sqrt(95), 15);
    expect(spearman([1, 2, 3, 4], [10, 20, 30, 1000])).toBe(1);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBe(-1);
    expect(spearman([1, 1, 1], [1, 2, 3])).toBeNaN();
    expect(spearman([1], [1])).toBeNaN();
  });
});

describe('RollingIc', () => {
  it('pairs the prediction of bar t − h with ln(close_t / close_{t−h}), only once bar t has closed', () => {
    const ic = new RollingIc({ window: 3, horizonBars: 2, minPairs: 3 });
    const logCloses = [0, 0.1, 0.3, 0.2, 0.6, 0.4];
    const predictions = [1, 2, 3, 4, 5, 6];
    const pairsAfter: number[] = [];
    for (let t = 0; t < 6; t++) {
      ic.update(predictions[t]!, Math.exp(logCloses[t]!));
      pairsAfter.push(ic.pairs);
    }
    expect(pairsAfter).toEqual([0, 0, 1, 2, 3, 3]);
    const w = ic.windowPairs();
    // window 3 → the pairs of predictions 2, 3, 4 (made at bars 1, 2, 3, realised at bars 3, 4, 5)
    expect(Array.from(w.predictions)).toEqual([2, 3, 4]);
    expect(w.returns[0]).toBeCloseTo(0.2 - 0.1, 14);
    expect(w.returns[1]).toBeCloseTo(0.6 - 0.3, 14);
    expect(w.returns[2]).toBeCloseTo(0.4 - 0.2, 14);
    // returns 0.1, 0.3, 0.2 vs predictions 2, 3, 4: ranks [1, 3, 2] vs [1, 2, 3] → Σdxdy 1 / √(2·2) = 0.5
    expect(ic.ic).toBeCloseTo(0.5, 15);
    expect(ic.bars).toBe(6);
  });

  it('is NaN below minPairs and when one side is constant', () => {
    const ic = new RollingIc({ window: 10, horizonBars: 1, minPairs: 4 });
    // log closes 0.01·t²: forward returns 0.01·(2t − 1) grow with t, as the predictions do
    for (let t = 0; t < 4; t++) ic.update(t, 100 * Math.exp(0.01 * t * t));
    expect(ic.pairs).toBe(3);
    expect(ic.ic).toBeNaN();
    ic.update(4, 100 * Math.exp(0.16));
    expect(ic.ic).toBe(1);
    const flat = new RollingIc({ window: 10, horizonBars: 1, minPairs: 3 });
    for (let t = 0; t < 8; t++) flat.update(0.5, 100 + t);
    expect(flat.ic).toBeNaN();
  });

  it('incremental IC equals a from-scratch Spearman of the same window at every bar exactly (rank sums are exact in doubles), ties and NaNs included', () => {
    for (const [h, window, minPairs, seed] of [[1, 50, 10, 1], [3, 64, 20, 2], [5, 7, 3, 3]] as const) {
      const { predictions, closes } = series(1500, seed, h);
      const ic = new RollingIc({ window, horizonBars: h, minPairs });
      let mismatches = 0, compared = 0;
      for (let t = 0; t < predictions.length; t++) {
        ic.update(predictions[t]!, closes[t]!);
        const { x, y } = pairsAt(predictions, closes, h, window, t);
        expect(ic.pairs).toBe(x.length);
        const reference = x.length >= minPairs ? spearman(x, y) : Number.NaN;
        if (Number.isNaN(reference)) {
          expect(ic.ic).toBeNaN();
          continue;
        }
        if (!Object.is(ic.ic, reference)) mismatches++;
        compared++;
      }
      expect(mismatches).toBe(0);
      expect(compared).toBeGreaterThan(1000);
    }
  });

  it('a signal that predicts the forward return has a high IC, noise has an IC near 0', () => {
    const { predictions, closes } = series(3000, 11, 1);
    const good = new RollingIc({ window: 500, horizonBars: 1, minPairs: 30 });
    const noise = new RollingIc({ window: 500, horizonBars: 1, minPairs: 30 });
    const random = seededRandom(5);
    for (let t = 0; t < closes.length; t++) {
      good.update(predictions[t]!, closes[t]!);
      noise.update(normalDraw(random), closes[t]!);
    }
    expect(good.ic).toBeGreaterThan(0.2);
    expect(Math.abs(noise.ic)).toBeLessThan(0.15);
  });

  it('is causal: IC and confidence at t do not change when bars after t are perturbed', () => {
    const h = 3;
    const base = series(800, 21, h);
    const t0 = 500;
    const perturbed = { predictions: base.predictions.slice(), closes: base.closes.slice() };
    const random = seededRandom(99);
    for (let t = t0 + 1; t < 800; t++) {
      perturbed.predictions[t] = normalDraw(random);
      perturbed.closes[t] = base.closes[t]! * Math.exp(normalDraw(random) * 0.05);
    }
    const a = new RollingIc({ window: 100, horizonBars: h, minPairs: 20 });
    const b = new RollingIc({ window: 100, horizonBars: h, minPairs: 20 });
    const icA: number[] = [], icB: number[] = [], confA: number[] = [], confB: number[] = [];
    for (let t = 0; t < 800; t++) {
      a.update(base.predictions[t]!, base.closes[t]!);
      b.update(perturbed.predictions[t]!, perturbed.closes[t]!);
      icA.push(a.ic); icB.push(b.ic); confA.push(a.confidence); confB.push(b.confidence);
    }
    expect(icB.slice(0, t0 + 1)).toEqual(icA.slice(0, t0 + 1));
    expect(confB.slice(0, t0 + 1)).toEqual(confA.slice(0, t0 + 1));
    // and the future does matter once it is realised
    expect(icB.slice(t0 + 1)).not.toEqual(icA.slice(t0 + 1));
  });

  it('a prediction never sees its own forward return early: changing close_{t+h} leaves the IC at t + h − 1 unchanged', () => {
    const h = 4;
    const base = series(300, 8, h);
    for (const t of [100, 150, 299 - h]) {
      const changed = base.closes.slice();
      changed[t + h] = changed[t + h]! * 1.5;
      const a = new RollingIc({ window: 60, horizonBars: h, minPairs: 10 });
      const b = new RollingIc({ window: 60, horizonBars: h, minPairs: 10 });
      for (let s = 0; s < t + h; s++) {
        a.update(base.predictions[s]!, base.closes[s]!);
        b.update(base.predictions[s]!, changed[s]!);
      }
      expect(b.ic).toBe(a.ic);
      a.update(base.predictions[t + h]!, base.closes[t + h]!);
      b.update(base.predictions[t + h]!, changed[t + h]!);
      if (!Number.isNaN(base.predictions[t]!)) expect(b.ic).not.toBe(a.ic);
    }
  });

  it('confidence = erf(|p| / (s·√2)), s = sample std of the last `window` predictions (hand-computed)', () => {
    const ic = new RollingIc({ window: 4, horizonBars: 1, minPairs: 3 });
    ic.update(1, 100);
    ic.update(-1, 100);
    expect(ic.confidence).toBe(0); // 2 predictions < minPairs
    ic.update(1, 100);
    // [1, −1, 1]: mean 1/3, Σd² = 8/3, s = √(4/3), z = 1/s = 0.8660254 → erf(z/√2) = 0.6135237692 (Python math.erf)
    expect(ic.confidence).toBeCloseTo(0.6135237692287673, 6);
    ic.update(3, 100);
    // [1, −1, 1, 3]: mean 1, Σd² = 8, s = √(8/3), z = 1.8371173 → 0.9338074203 (Python math.erf)
    expect(ic.confidence).toBeCloseTo(0.9338074202778066, 6);
    ic.update(0, 100);
    expect(ic.confidence).toBeLessThan(1e-6); // |p| = 0 → 0
    ic.update(Number.NaN, 100);
    expect(ic.confidence).toBe(0); // no prediction
    const constant = new RollingIc({ window: 4, horizonBars: 1, minPairs: 3 });
    for (let t = 0; t < 5; t++) constant.update(0.2, 100);
    expect(constant.confidence).toBe(0); // s = 0
  });

  it('confidence stays in [0, 1) over a long random run', () => {
    const ic = new RollingIc({ window: 50, horizonBars: 1, minPairs: 10 });
    const random = seededRandom(3);
    for (let t = 0; t < 2000; t++) {
      ic.update(normalDraw(random) * 1e-3, 100);
      expect(ic.confidence).toBeGreaterThanOrEqual(0);
      expect(ic.confidence).toBeLessThan(1);
    }
  });

  it('rejects bad options and corrupt inputs', () => {
    expect(() => new RollingIc({ window: 2, horizonBars: 1, minPairs: 3 })).toThrow(/`window` must be an integer >= 3, was 2/);
    expect(() => new RollingIc({ window: 10, horizonBars: 0, minPairs: 3 })).toThrow(/`horizonBars`/);
    expect(() => new RollingIc({ window: 10, horizonBars: 1, minPairs: 11 })).toThrow(/`minPairs` must be an integer in \[3, window = 10\], was 11/);
    const ic = new RollingIc({ window: 10, horizonBars: 1, minPairs: 3 });
    expect(() => ic.update(0.1, 0)).toThrow(SizingError);
    expect(() => ic.update(Number.POSITIVE_INFINITY, 100)).toThrow(/`prediction` must be finite or NaN/);
  });
});

describe('RollingIc.update allocates nothing', () => {
  // Under mutation testing (StrykerJS worker) every statement is instrumented and allocates: the property is about
  // the real code only, so the test runs in `npm test` and is left out of mutant runs.
  it.skipIf(process.env['STRYKER_MUTATOR_WORKER'] !== undefined)('3e6 updates over a full window trigger at most 3 garbage collections (a 16-byte heap number per update would force several scavenges)', async () => {
    const { predictions, closes } = series(4096, 31, 2);
    const ic = new RollingIc({ window: 32, horizonBars: 2, minPairs: 10 });
    const run = (count: number): void => {
      let i = 0;
      for (let j = 0; j < count; j++) {
        ic.update(predictions[i]!, closes[i]!);
        if (++i === predictions.length) i = 0;
      }
    };
    run(300_000); // warm up: let the JIT optimise update
    expect(await garbageCollectionsDuring(() => run(3_000_000))).toBeLessThanOrEqual(3);
    expect(ic.bars).toBe(3_300_000);
  });
});

describe('RollingIc: option and input rules at their boundaries', () => {
  it('takes the smallest valid options (window 3, horizon 1, minPairs 3 = window) and refuses fractional ones', () => {
    const ic = new RollingIc({ window: 3, horizonBars: 1, minPairs: 3 });
    expect([ic.window, ic.horizonBars, ic.minPairs]).toEqual([3, 1, 3]);
    // before the first bar: no IC, no confidence, nothing paired
    expect([ic.ic, ic.confidence, ic.pairs, ic.bars]).toEqual([Number.NaN, 0, 0, 0]);
    expect(() => new RollingIc({ window: 3.5, horizonBars: 1, minPairs: 3 })).toThrow('`window` must be an integer >= 3, was 3.5');
    expect(() => new RollingIc({ window: 10, horizonBars: 1.5, minPairs: 3 })).toThrow('`horizonBars` must be an integer >= 1, was 1.5');
    expect(() => new RollingIc({ window: 10, horizonBars: 1, minPairs: 3.5 })).toThrow('`minPairs` must be an integer in [3, window = 10], was 3.5');
    expect(() => new RollingIc({ window: 10, horizonBars: 1, minPairs: 2 })).toThrow('`minPairs` must be an integer in [3, window = 10], was 2');
  });

  it('refuses an infinite or NaN close and a −Infinity prediction, naming them', () => {
    const ic = new RollingIc({ window: 10, horizonBars: 1, minPairs: 3 });
    expect(() => ic.update(0.1, Number.POSITIVE_INFINITY)).toThrow('`close` must be finite and > 0, was Infinity');
    expect(() => ic.update(0.1, Number.NaN)).toThrow('`close` must be finite and > 0, was NaN');
    expect(() => ic.update(Number.NEGATIVE_INFINITY, 100)).toThrow('`prediction` must be finite or NaN (no prediction), was -Infinity');
    expect(ic.bars).toBe(0);
  });
});

describe('RollingIc: windows and values at their edges', () => {
  it('the confidence of a full window uses only the last `window` predictions: [1, −1, 1, 3] with window 3 → s of [−1, 1, 3] = 2, z = 1.5', () => {
    const ic = new RollingIc({ window: 3, horizonBars: 1, minPairs: 3 });
    for (const p of [1, -1, 1, 3]) ic.update(p, 100);
    // erf(1.5 / √2) = 0.8663855974622838 (Python math.erf)
    expect(ic.confidence).toBeCloseTo(0.8663855974622838, 6);
  });

  it('a bar without a prediction leaves the confidence window as it was: [1, −1, NaN, 1] reads as [1, −1, 1]', () => {
    const ic = new RollingIc({ window: 3, horizonBars: 1, minPairs: 3 });
    for (const p of [1, -1, Number.NaN, 1]) ic.update(p, 100);
    expect(ic.confidence).toBeCloseTo(0.6135237692287673, 6);
  });

  it('a window not yet full whose largest prediction and largest return are exactly 0 still ranks them right (IC 1)', () => {
    const ic = new RollingIc({ window: 10, horizonBars: 1, minPairs: 3 });
    // pairs (−2, −0.2), (−1, −0.1), (0, 0): both sides in the same order
    const logCloses = [0, -0.2, -0.3, -0.3];
    [-2, -1, 0, Number.NaN].forEach((p, t) => ic.update(p, Math.exp(logCloses[t]!)));
    expect(Array.from(ic.windowPairs().predictions)).toEqual([-2, -1, 0]);
    expect(ic.windowPairs().returns[2]).toBe(0);
    expect(ic.ic).toBe(1);
  });

  it('spearman of two pairs is ±1 (n = 2 is enough), and refuses sides of different lengths', () => {
    expect(spearman([1, 2], [3, 4])).toBe(1);
    expect(spearman([1, 2], [4, 3])).toBe(-1);
    expect(() => spearman([1, 2], [1])).toThrow('`y` must have the length of `x` (2), was 1');
  });
});

/** Spearman by definition, independent of `spearman`: rank = #smaller + (#equal + 1) / 2, then Pearson of the ranks. */
function naiveSpearman(x: readonly number[], y: readonly number[]): number {
  const n = x.length;
  const rank = (v: readonly number[], i: number): number => v.filter((u) => u < v[i]!).length + (v.filter((u) => u === v[i]!).length + 1) / 2;
  const mean = (n + 1) / 2;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = rank(x, i) - mean, dy = rank(y, i) - mean;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : Number.NaN;
}

describe('RollingIc: tied returns', () => {
  it('returns tied at a rank other than the middle share their average rank: y ranks [1.5, 1.5, 3, 4] vs x [1, 2, 3, 4] → 4.5 / √(5 · 4.5) = √0.9', () => {
    const ic = new RollingIc({ window: 4, horizonBars: 1, minPairs: 3 });
    // returns 0, 0, ≈0.1, ≈0.2: dy = [−1, −1, 0.5, 1.5], dx = [−1.5, −0.5, 0.5, 1.5]; Σdxdy = 4.5, Σdx² = 5, Σdy² = 4.5
    const closes = [100, 100, 100, 100 * Math.exp(0.1), 100 * Math.exp(0.3)];
    [1, 2, 3, 4, Number.NaN].forEach((p, t) => ic.update(p, closes[t]!));
    expect(Array.from(ic.windowPairs().returns.subarray(0, 2))).toEqual([0, 0]);
    expect(ic.ic).toBeCloseTo(Math.sqrt(0.9), 14);
  });

  it('predictions that vary against a flat close (every return 0) have no IC', () => {
    const ic = new RollingIc({ window: 5, horizonBars: 1, minPairs: 3 });
    for (let t = 0; t < 9; t++) ic.update(t % 3, 100);
    expect(ic.pairs).toBe(5);
    expect(ic.ic).toBeNaN();
  });

  it('equals a by-definition Spearman at every bar on tie-heavy streams (3 close levels, 3 prediction levels and NaN), windows 3..6, horizons 1..3', () => {
    let compared = 0;
    for (let window = 3; window <= 6; window++) {
      for (let h = 1; h <= 3; h++) {
        const random = seededRandom(100 * window + h);
        const pick = <T>(options: readonly T[]): T => options[Math.floor(random() * options.length)]!;
        const predictions = Float64Array.from({ length: 120 }, () => pick([-1, 0, 0, 1, Number.NaN]));
        const closes = Float64Array.from({ length: 120 }, () => pick([100, 101, 102]));
        const ic = new RollingIc({ window, horizonBars: h, minPairs: 3 });
        for (let t = 0; t < predictions.length; t++) {
          ic.update(predictions[t]!, closes[t]!);
          const { x, y } = pairsAt(predictions, closes, h, window, t);
          expect(Array.from(ic.windowPairs().predictions)).toEqual(x);
          const expected = x.length >= 3 ? naiveSpearman(x, y) : Number.NaN;
          expect(ic.ic, `window ${window}, h ${h}, bar ${t}`).toBe(expected);
          if (!Number.isNaN(expected)) compared++;
        }
      }
    }
    expect(compared).toBeGreaterThan(800);
  });
});
