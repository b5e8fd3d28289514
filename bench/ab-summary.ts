/**
 * The figures of a paired A/B timing (bench/ab.ts): runs of two builds alternating in one process, so that both see
 * the same states of a machine whose speed steps by 2-3x within seconds (see bench/machine-speed.ts). The verdict is
 * read from the ratio of each pair (B's time over A's), not from the two sets of times apart.
 */

/** One pair: A's and B's run times (ms), run back to back. */
export type TimedPair = readonly [a: number, b: number];

export interface PairedSummary {
  readonly pairs: number;
  /** Median of the pairs' ratios B/A: below 1, B ran faster. */
  readonly medianRatio: number;
  /** The quartiles of the pairs' ratios. */
  readonly lowerQuartileRatio: number;
  readonly upperQuartileRatio: number;
  /** Share of pairs in which B ran faster than A. */
  readonly bFasterShare: number;
  readonly minA: number;
  readonly minB: number;
}

/** The value at quantile `p` (0..1) of `values`: the element at index ⌊p·(n − 1)⌋ of the sorted copy (no interpolation). */
export function quantile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(p * (sorted.length - 1))]!;
}

/** Summarizes paired runs (see {@link PairedSummary}); NaN figures when there are none. */
export function pairedSummary(pairs: readonly TimedPair[]): PairedSummary {
  const ratios = pairs.map(([a, b]) => b / a);
  return {
    pairs: pairs.length,
    medianRatio: quantile(ratios, 0.5),
    lowerQuartileRatio: quantile(ratios, 0.25),
    upperQuartileRatio: quantile(ratios, 0.75),
    bFasterShare: pairs.length === 0 ? NaN : pairs.filter(([a, b]) => b < a).length / pairs.length,
    minA: pairs.length === 0 ? NaN : Math.min(...pairs.map(([a]) => a)),
    minB: pairs.length === 0 ? NaN : Math.min(...pairs.map(([, b]) => b)),
  };
}

/** One line of figures: `B/A median 0.891 (quartiles 0.812-0.975), B faster in 71 % of 60 pairs; min A 43.96 ms, B 34.82 ms`. */
export function formatPairedSummary(s: PairedSummary): string {
  const r = (x: number) => x.toFixed(3);
  return `B/A median ${r(s.medianRatio)} (quartiles ${r(s.lowerQuartileRatio)}-${r(s.upperQuartileRatio)}), B faster in ${Math.round(s.bFasterShare * 100)} % of ${s.pairs} pairs; min A ${s.minA.toFixed(2)} ms, B ${s.minB.toFixed(2)} ms`;
}
