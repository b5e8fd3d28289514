import type { Kernel } from '../engine/kernel.js';
import { gridSettlementAfter, type FundingModel } from './execution-models.js';

/** The first settlement of instrument `i` strictly after `after` under `funding`: its own schedule, else the 00/08/16 UTC grid. */
export function settlementAfter(funding: FundingModel, i: number, after: number): number {
  return funding.settlementAfter !== undefined ? funding.settlementAfter(i, after) : gridSettlementAfter(after);
}

/** The first settlement strictly after `after` of any of `instruments` the model may charge; Infinity when it charges none. */
export function firstSettlementAfter(funding: FundingModel, instruments: number, after: number): number {
  let first = Infinity;
  for (let i = 0; i < instruments; i++) {
    if (funding.charges?.(i) === false) continue;
    const s = settlementAfter(funding, i, after);
    if (s < first) first = s;
  }
  return first;
}

/**
 * Funding of the bars that ended at the close `tsClose`: every settlement `s` with `after < s <= tsClose` (`after`:
 * the close funding was settled through last, or the run's first bar's open), in time order, instruments in index
 * order at one time. Each open position pays or receives `funding.rate(i, s)` on the position held at `tsClose` and
 * at its mark (the close's): a bar that spans a settlement (a 3 h, 12 h or daily bar across 08:00, a 4 h bar of a
 * contract that settles hourly) is charged it at its close, as the settlement's rate × the close's mark; no
 * settlement is skipped. Returns the first settlement after `tsClose` (Infinity: none). Bar runners (backtest and
 * live) call it only once a close reaches that time, so the schedule is off their per-bar path.
 */
export function settleFunding(kernel: Kernel, funding: FundingModel, after: number, tsClose: number): number {
  const { quantity, mark } = kernel.portfolio;
  const n = quantity.length;
  let previous = after;
  let s = firstSettlementAfter(funding, n, after);
  while (s <= tsClose) {
    for (let i = 0; i < n; i++) {
      if (quantity[i] === 0 || funding.charges?.(i) === false || settlementAfter(funding, i, previous) !== s) continue;
      const r = funding.rate(i, s);
      if (r) kernel.onFunding(i, s, r.rate, mark[i]!, r.source);
    }
    previous = s;
    s = firstSettlementAfter(funding, n, s);
  }
  return s;
}
