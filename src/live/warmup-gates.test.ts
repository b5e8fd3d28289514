import { describe, expect, it } from 'vitest';
import { RecentBars } from './saved-signal-state.js';
import { DEFAULT_WARMUP_GATES, warmupGateVerdict } from './warmup-gates.js';

const H4 = 4 * 3_600_000;
/** Periods per year of 4h bars: the Sharpe's annualization. */
const ANNUAL = Math.sqrt((365 * 86_400_000) / H4);

/** A warm-up window: `closes[i][k]` and `signals[i][k]` of instrument i at set k (NaN close: the bar is absent). */
function window(closes: readonly (readonly number[])[], signals: readonly (readonly number[])[]): RecentBars {
  const n = closes[0]!.length;
  const bars = new RecentBars(n, closes.length);
  for (let k = 0; k < n; k++) {
    bars.beginSet(k * H4);
    closes.forEach((c, i) => {
      if (Number.isFinite(c[k]!)) bars.put(i, k * H4, c[k]!, c[k]!, c[k]!, c[k]!, 1, Number.NaN, signals[i]![k]!);
    });
  }
  return bars;
}

/** The sample Sharpe of `xs`, annualized for 4h bars (the formula the gate uses, written out). */
function sharpe(xs: readonly number[]): number {
  const mean = xs.reduce((a, x) => a + x, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1));
  return (mean / sd) * ANNUAL;
}

describe('warmupGateVerdict', () => {
  it('pairs each bar\'s signal with the next bar\'s log return, pooled over instruments (IC), and averages sign × return over the instruments of each bar (Sharpe)', () => {
    // A: every signal calls the next move; B: absent at set 2 (its pairs 1→2 and 2→3 are skipped), calls it too.
    const closes = [[100, 102, 101, 104, 103, 999], [50, 49, Number.NaN, 52, 53, 999]];
    const signals = [[2, -1, 3, -2, 9, 9], [-0.5, 0, 0, 1, 9, 9]];
    const v = warmupGateVerdict(window(closes, signals), H4, DEFAULT_WARMUP_GATES);
    const r = (c: readonly number[], k: number) => Math.log(c[k + 1]! / c[k]!);
    const [a, b] = closes as [number[], number[]];
    // Pairs: A k=0..4 (5), B k=0 and k=3, 4 (k=1, 2 touch the absent bar): 8.
    expect(v.count).toBe(8);
    // Per bar: A's sign × return, with B's where B has a pair; mean over the instruments present.
    const perBar = [
      (Math.sign(2) * r(a, 0) + Math.sign(-0.5) * r(b, 0)) / 2,
      -r(a, 1),
      Math.sign(3) * r(a, 2),
      (-r(a, 3) + r(b, 3)) / 2,
      (r(a, 4) + Math.sign(9) * r(b, 4)) / 2,
    ];
    expect(v.sharpe / sharpe(perBar)).toBeCloseTo(1, 12);
    // Every pair but B's last (signal 9, return ln(999/53) > 0 ranks with the rest) is concordant in rank.
    expect(v.ic).toBeGreaterThan(0.5);
    expect(v.pValue).toBeLessThan(0.15);
  });

  /** Closes and, as signals, exactly the next bar's log return (times `scale`): a perfect (or, negative, perfectly wrong) call. */
  const CLOSES = [100, 101, 99, 102, 100, 103, 101];
  const calls = (scale: number, last: number) => CLOSES.map((c, k) => (k + 1 < CLOSES.length ? scale * Math.log(CLOSES[k + 1]! / c) : last));

  it('is causal: the last bar\'s signal and anything after the window do not change the verdict', () => {
    const base = warmupGateVerdict(window([CLOSES], [calls(10, 1)]), H4, DEFAULT_WARMUP_GATES);
    const lastChanged = warmupGateVerdict(window([CLOSES], [calls(10, -50)]), H4, DEFAULT_WARMUP_GATES);
    expect(lastChanged).toEqual(base);
    // Perfect calls: IC 1, p 0; the window passes.
    expect(base).toMatchObject({ ic: 1, pValue: 0, count: 6, passed: true, failures: [] });
  });

  it('holds the training gates\' edges: IC >= its minimum passes, p must be below its maximum, Sharpe above its minimum', () => {
    const v = warmupGateVerdict(window([CLOSES], [calls(10, 1)]), H4, DEFAULT_WARMUP_GATES);
    const at = (gates: { minIc: number; maxPValue: number; minSharpe: number }) => warmupGateVerdict(window([CLOSES], [calls(10, 1)]), H4, gates).failures;
    expect(at({ minIc: v.ic, maxPValue: 0.15, minSharpe: 0.5 })).toEqual([]);
    expect(at({ minIc: 0.05, maxPValue: v.pValue, minSharpe: 0.5 })).toEqual(['p 0.000 >= 0']);
    expect(at({ minIc: 0.05, maxPValue: 0.15, minSharpe: v.sharpe })).toEqual([`Sharpe ${v.sharpe.toFixed(3)} <= ${v.sharpe}`]);
  });

  it('a bar time where no instrument has a pair does not count in the Sharpe', () => {
    // Set 3 absent: the pairs 2→3 and 3→4 are skipped, so bar times 2 and 3 hold no return.
    const closes = [100, 102, 101, Number.NaN, 104, 103, 105];
    const signals = [1, -1, 1, 1, 1, -1, 0];
    const v = warmupGateVerdict(window([closes], [signals]), H4, DEFAULT_WARMUP_GATES);
    const r = (k: number) => Math.log(closes[k + 1]! / closes[k]!);
    expect(v.count).toBe(4);
    expect(v.sharpe / sharpe([r(0), -r(1), r(4), -r(5)])).toBeCloseTo(1, 12);
  });

  it('names each failed gate with its value, and fails a window too short to score', () => {
    const wrong = warmupGateVerdict(window([CLOSES], [calls(-10, 0)]), H4, DEFAULT_WARMUP_GATES);
    expect(wrong.passed).toBe(false);
    expect(wrong.ic).toBe(-1);
    expect(wrong.failures).toEqual(['IC -1.000 < 0.05', `Sharpe ${wrong.sharpe.toFixed(3)} <= 0.5`]); // p 0 passes
    expect(wrong.sharpe).toBeLessThan(0);
    // One pair: no IC (fewer than 3), p 1, no Sharpe (fewer than 2 bars).
    const short = warmupGateVerdict(window([[100, 101]], [[1, 1]]), H4, DEFAULT_WARMUP_GATES);
    expect(short).toMatchObject({ count: 1, passed: false, failures: ['IC NaN < 0.05', 'p 1.000 >= 0.15', 'Sharpe NaN <= 0.5'] });
    // Two pairs: still no IC; the Sharpe of two bars is scored (and here passes).
    const two = warmupGateVerdict(window([[100, 101, 102]], [[1, 1, 1]]), H4, DEFAULT_WARMUP_GATES);
    expect(two.failures).toEqual(['IC NaN < 0.05', 'p 1.000 >= 0.15']);
    expect(two.sharpe / sharpe([Math.log(101 / 100), Math.log(102 / 101)])).toBeCloseTo(1, 9);
    // Gates of one's own: the same window passes when they ask for less.
    expect(warmupGateVerdict(window([CLOSES], [calls(-10, 0)]), H4, { minIc: -2, maxPValue: 2, minSharpe: -Infinity }).passed).toBe(true);
  });
});
