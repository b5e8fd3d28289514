import { StatelessKernel, type BarStream } from './bar-stream.js';
import { checkIntegerParam, type FundingSettlements } from './feature-inputs.js';
import { forEachUsable, latestUsable } from './usable-points.js';
import { ALL, nanArray, windowMean } from './window-stats.js';

/**
 * Returns the last settled funding rate as of each bar close: `rate[j]` for the latest settlement with
 * `ts[j] <= barClose[t]` (a settlement at time s is usable from bar closes >= s). Units: fraction per settlement
 * (0.0001 = 0.01 %). NaN before the first settlement.
 */
export function fundingRateLast(barClose: Float64Array, funding: FundingSettlements): Float64Array {
  return latestUsable(barClose, funding.ts, funding.rate, 0);
}

/**
 * Returns the mean of the last `count` settled funding rates as of each bar close (settlements with `ts <= barClose[t]`,
 * summed oldest first). Units: fraction per settlement. NaN until `count` settlements are usable.
 * @throws AppError `invalid_feature_params` when `count` is not an integer >= 1.
 */
export function fundingRateMean(barClose: Float64Array, funding: FundingSettlements, count: number): Float64Array {
  checkIntegerParam('funding-rate-mean', 'count', count, 1);
  const out = nanArray(barClose.length);
  forEachUsable(barClose, funding.ts, 0, (t, j) => {
    if (j + 1 >= count) out[t] = windowMean(funding.rate, ALL, j, count);
  });
  return out;
}

/** Incremental {@link fundingRateLast}: reads the stream's settled-funding ring. */
export class FundingRateLastKernel extends StatelessKernel {
  update(s: BarStream, row: Float64Array, offset: number): void {
    row[offset] = s.fundingCount > 0 ? s.fundingRate[(s.fundingCount - 1) & s.fundingMask]! : NaN;
  }
}

/** Incremental {@link fundingRateMean}. */
export class FundingRateMeanKernel extends StatelessKernel {
  constructor(private readonly count: number) {
    super();
  }

  update(s: BarStream, row: Float64Array, offset: number): void {
    row[offset] = s.fundingCount >= this.count ? windowMean(s.fundingRate, s.fundingMask, s.fundingCount - 1, this.count) : NaN;
  }
}
