import type { BarStream, FeatureKernel } from './bar-stream.js';
import { checkIntegerParam, type FundingSettlements } from './feature-inputs.js';
import { ALL, nanArray, windowMean } from './window-stats.js';

/**
 * Calls `each(t, j)` for every bar with `j` = index of the last settlement usable at the bar's close
 * (`funding.ts[j] <= barClose[t]`; -1 when none yet). One forward pass; both arrays ascending.
 */
function forEachSettled(barClose: Float64Array, funding: FundingSettlements, each: (t: number, j: number) => void): void {
  const m = funding.ts.length;
  let j = -1;
  for (let t = 0; t < barClose.length; t++) {
    const close = barClose[t]!;
    while (j + 1 < m && funding.ts[j + 1]! <= close) j++;
    each(t, j);
  }
}

/**
 * Returns the last settled funding rate as of each bar close: `rate[j]` for the latest settlement with
 * `ts[j] <= barClose[t]` (a settlement at time s is usable from bar closes >= s). Units: fraction per settlement
 * (0.0001 = 0.01 %). NaN before the first settlement.
 */
export function fundingRateLast(barClose: Float64Array, funding: FundingSettlements): Float64Array {
  const out = nanArray(barClose.length);
  forEachSettled(barClose, funding, (t, j) => {
    if (j >= 0) out[t] = funding.rate[j]!;
  });
  return out;
}

/**
 * Returns the mean of the last `count` settled funding rates as of each bar close (settlements with `ts <= barClose[t]`,
 * summed oldest first). Units: fraction per settlement. NaN until `count` settlements are usable.
 * @throws AppError `invalid_feature_params` when `count` is not an integer >= 1.
 */
export function fundingRateMean(barClose: Float64Array, funding: FundingSettlements, count: number): Float64Array {
  checkIntegerParam('funding-rate-mean', 'count', count, 1);
  const out = nanArray(barClose.length);
  forEachSettled(barClose, funding, (t, j) => {
    if (j + 1 >= count) out[t] = windowMean(funding.rate, ALL, j, count);
  });
  return out;
}

/** Incremental {@link fundingRateLast}: reads the stream's settled-funding ring. */
export class FundingRateLastKernel implements FeatureKernel {
  update(s: BarStream, row: Float64Array, offset: number): void {
    row[offset] = s.fundingCount > 0 ? s.fundingRate[(s.fundingCount - 1) & s.fundingMask]! : NaN;
  }

  /** Stateless: reads only the stream. */
  skip(): void {}

  reset(): void {}
}

/** Incremental {@link fundingRateMean}. */
export class FundingRateMeanKernel implements FeatureKernel {
  constructor(private readonly count: number) {}

  update(s: BarStream, row: Float64Array, offset: number): void {
    row[offset] = s.fundingCount >= this.count ? windowMean(s.fundingRate, s.fundingMask, s.fundingCount - 1, this.count) : NaN;
  }

  /** Stateless: reads only the stream. */
  skip(): void {}

  reset(): void {}
}
