import type { Kernel } from '../engine/kernel.js';
import { FUNDING_INTERVAL_MS, type FundingModel } from './execution-models.js';

/**
 * Funding at the close `tsClose` (a time at or after the next funding time): on the 00/08/16 UTC grid every open
 * position pays or receives `funding.rate` at its mark; returns the next funding time after `tsClose`. Bar runners
 * (backtest and live) call it only once a grid time may have been reached, so the grid check is off their per-bar path.
 */
export function settleFunding(kernel: Kernel, funding: FundingModel, tsClose: number): number {
  // A division instead of `%` (a floating modulo is a slow library call, and this runs at every second 4h bar):
  // k × interval is an exact multiple of the interval (below 2^53), so it equals tsClose exactly when `%` gives 0.
  const k = Math.floor(tsClose / FUNDING_INTERVAL_MS);
  if (k * FUNDING_INTERVAL_MS === tsClose) {
    const { quantity, mark } = kernel.portfolio;
    for (let i = 0; i < quantity.length; i++) {
      if (quantity[i] === 0) continue;
      const r = funding.rate(i, tsClose);
      if (r) kernel.onFunding(i, tsClose, r.rate, mark[i]!, r.source);
    }
  }
  return (k + 1) * FUNDING_INTERVAL_MS;
}
