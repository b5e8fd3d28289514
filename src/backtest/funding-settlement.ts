import type { Kernel } from '../engine/kernel.js';
import { gridSettlementAfter, type FundingModel } from './execution-models.js';

/** The first settlement of instrument `i` strictly after `after` under `funding`: its own schedule, else the 00/08/16 UTC grid. */
function settlementAfter(funding: FundingModel, i: number, after: number): number {
  return funding.settlementAfter !== undefined ? funding.settlementAfter(i, after) : gridSettlementAfter(after);
}

/**
 * The funding settlements of a run's instruments, settled as the run's closes pass them: every settlement `s` after the
 * time the schedule starts from (the run's first bar's open) is settled at the first close `tsClose >= s`, in time
 * order, instruments in index order at one time. Each open position pays or receives `funding.rate(i, s)` on the
 * position held at that close and at its mark (the close's): a bar that spans a settlement (a 3 h, 12 h or daily bar
 * across 08:00, a 4 h bar of a contract that settles hourly) is charged it at its close, as the settlement's rate × the
 * close's mark; no settlement is skipped. Bar runners (backtest and live) and the tick runner call {@link settle} only
 * once a close reaches {@link next}, so the schedule is off their per-bar path.
 */
export class FundingSchedule {
  /** The first settlement not settled yet, of any instrument (Infinity: none, e.g. a model that charges no instrument). */
  next = Infinity;
  /** The close the schedule was settled through last (its start before any). */
  settledThrough: number;
  /** Per instrument: its first settlement not settled yet (Infinity: never charged). */
  private readonly nextOf: Float64Array;
  /** Per instrument: its last settlement settled (the schedule's start before any). */
  private readonly lastOf: Float64Array;

  /**
   * @param after the time the schedule starts from (the run's first bar's open): settlements after it are settled
   * @param lastSettled per instrument, the last settlement a previous life of the run settled ({@link lastSettled} of
   *   its schedule, saved with its state): each instrument's settlements after it are settled instead, those up to
   *   `after` at the first close (a live run's restart: a settlement the previous life could not know of yet, of an
   *   interval the venue shortened, is not lost)
   */
  constructor(private readonly funding: FundingModel, instruments: number, after: number, lastSettled?: readonly number[]) {
    this.settledThrough = after;
    this.nextOf = new Float64Array(instruments);
    this.lastOf = new Float64Array(instruments).fill(after);
    if (lastSettled !== undefined) this.lastOf.set(lastSettled);
    for (let i = 0; i < instruments; i++) this.nextOf[i] = funding.charges?.(i) === false ? Infinity : settlementAfter(funding, i, this.lastOf[i]!);
    this.next = this.earliest();
  }

  /** Per instrument: its last settlement settled (the schedule's start before any): what a restart starts from. */
  lastSettled(): number[] {
    return Array.from(this.lastOf);
  }

  /** Settles every settlement up to `tsClose` into `kernel` (see the class). */
  settle(kernel: Kernel, tsClose: number): void {
    const { quantity, mark } = kernel.portfolio;
    const nextOf = this.nextOf, funding = this.funding;
    while (this.next <= tsClose) {
      const s = this.next;
      for (let i = 0; i < nextOf.length; i++) {
        if (nextOf[i] !== s) continue;
        if (quantity[i] !== 0) {
          const r = funding.rate(i, s);
          if (r) kernel.onFunding(i, s, r.rate, mark[i]!, r.source);
        }
        this.lastOf[i] = s;
        nextOf[i] = settlementAfter(funding, i, s);
      }
      this.next = this.earliest();
    }
    if (tsClose > this.settledThrough) this.settledThrough = tsClose;
  }

  /**
   * Asks the model again for each instrument's first settlement after its last settled one: a model whose settlements
   * changed (a paper run's, when the venue changed a contract's funding interval: PaperFundingRates) is followed from
   * there, a settlement found only now included (it is settled at the next {@link settle}, at that close).
   */
  replan(): void {
    for (let i = 0; i < this.nextOf.length; i++) if (this.nextOf[i] !== Infinity) this.nextOf[i] = settlementAfter(this.funding, i, this.lastOf[i]!);
    this.next = this.earliest();
  }

  private earliest(): number {
    let first = Infinity;
    for (let i = 0; i < this.nextOf.length; i++) if (this.nextOf[i]! < first) first = this.nextOf[i]!;
    return first;
  }
}
