import { fundingIntervalOf, settlementAtOrBefore } from '../backtest/execution-models.js';
import type { Kernel } from '../engine/kernel.js';
import type { VenueFundingReport } from '../engine/venue-reports.js';
import type { Journal } from './journal.js';

/** How far back of its newest booked payment a venue run asks again (a payment listed late at the same time is not missed). */
export const FUNDING_MARGIN_MS = 60_000;

/** What a venue run's funding book saves (runner state): the venue time it asks from, and the payments booked since shortly before it. */
export interface VenueFundingState {
  /** Venue time the run asks for payments from: its first live bar's open, then its newest booked payment's time. */
  readonly from: number;
  /** Execution id and venue time of each payment booked at or after `from − FUNDING_MARGIN_MS`. */
  readonly booked: readonly (readonly [string, number])[];
}

/**
 * The funding payments a venue run books from its venue (demo, testnet, mainnet): the venue charges funding on its
 * positions at the settlement times and lists each payment (Bybit: an execution of type `Funding`); the runner books
 * the venue's own figure into its account, once per payment (by execution id, across restarts through the runner
 * state), and journals it (`funding` records), so its cash follows the venue's wallet and `tm replay` books the same
 * payments at the same engine times. A payment is booked only once the engine reaches its settlement: before the
 * decisions at the first close at or after it. A life that restarts behind the venue's clock (trading the bars a dead
 * life left) would otherwise size those bars' decisions with payments made after them; the one listed early waits
 * (not saved: the next start lists it again).
 */
export class VenueFunding {
  private from: number;
  /** Made without a saved state: the run's first saved life starts with it (see {@link startAt}). */
  private readonly fresh: boolean;
  private readonly booked = new Map<string, number>();
  /** Payments listed before the engine reached their venue time, by execution id. */
  private readonly waiting = new Map<string, VenueFundingReport>();

  /**
   * @param from the run's first live bar's open (a fresh book)
   * @param intervalsMs per instrument, how often the venue settles its funding (default 8 h): a payment's settlement
   *   is the one at or before its venue time on its instrument's interval
   */
  constructor(from: number, saved?: VenueFundingState, private readonly intervalsMs?: readonly number[]) {
    this.from = saved?.from ?? from;
    this.fresh = saved === undefined;
    for (const [id, ts] of saved?.booked ?? []) this.booked.set(id, ts);
  }

  /** Venue time to ask for payments from. */
  since(): number {
    return this.from - FUNDING_MARGIN_MS;
  }

  /**
   * Venue time a start's reconciliation asks for payments from, when it asks for the run's executions from
   * `executionsFrom`: {@link since}, or for a fresh book the earlier of the two (see {@link startAt}).
   */
  askFrom(executionsFrom: number): number {
    return this.fresh ? Math.min(this.since(), executionsFrom) : this.since();
  }

  /**
   * A fresh book whose start's reconciliation booked executions of the run made before its first live bar (a first
   * life that traded and died before it saved any state; the new life adopts its orders) takes the run as begun at
   * the first of them, `firstExecution`: the payments on the positions they opened are the run's, as every later one
   * is. Payments before it are not (the run held nothing then: a trade by hand's, already in the wallet the run
   * started from). A saved book already begins at the first saved life's start.
   */
  startAt(firstExecution: number): void {
    if (this.fresh && firstExecution < this.from) this.from = firstExecution;
  }

  /** Whether a payment listed earlier waits for a settlement at or before `upTo`. */
  waitingUpTo(upTo: number): boolean {
    for (const r of this.waiting.values()) if (this.settlementOf(r) <= upTo) return true;
    return false;
  }

  /**
   * Books into `kernel`, at engine time `t`, each of `reports` (and of the payments waiting) not booked yet, not older
   * than the run's asking time and of a settlement at `upTo` or before (the close the engine decides next; a later one
   * waits), in venue time order, journaling each; returns those booked. A payment's settlement is its instrument's
   * settlement time at or before its venue time (the venue lists it at the settlement or moments after).
   */
  book(kernel: Kernel, journal: Journal, reports: readonly VenueFundingReport[], t: number, upTo: number): VenueFundingReport[] {
    for (const r of reports) if (!this.booked.has(r.executionId) && r.tsEvent >= this.since()) this.waiting.set(r.executionId, r);
    const due = [...this.waiting.values()].filter((r) => this.settlementOf(r) <= upTo).sort((a, b) => a.tsEvent - b.tsEvent || (a.executionId < b.executionId ? -1 : 1));
    const out: VenueFundingReport[] = [];
    for (const r of due) {
      this.waiting.delete(r.executionId);
      kernel.onVenueFunding(r.instrument, t, r.payment, r.rate, r.markPrice);
      journal.append({ k: 'funding', t, i: r.instrument, exec: r.executionId, pay: r.payment, rate: r.rate, p: r.markPrice, q: r.quantity, ts: r.tsEvent });
      this.booked.set(r.executionId, r.tsEvent);
      this.from = Math.max(this.from, r.tsEvent);
      out.push(r);
    }
    for (const [id, ts] of this.booked) if (ts < this.since()) this.booked.delete(id);
    return out;
  }

  save(): VenueFundingState {
    return { from: this.from, booked: [...this.booked] };
  }

  /** The settlement time of a payment: its instrument's settlement at or before its venue time. */
  private settlementOf(r: VenueFundingReport): number {
    return settlementAtOrBefore(r.tsEvent, fundingIntervalOf(this.intervalsMs, r.instrument));
  }
}
