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
 * payments at the same engine times.
 */
export class VenueFunding {
  private from: number;
  private readonly booked = new Map<string, number>();

  constructor(from: number, saved?: VenueFundingState) {
    this.from = saved?.from ?? from;
    for (const [id, ts] of saved?.booked ?? []) this.booked.set(id, ts);
  }

  /** Venue time to ask for payments from. */
  since(): number {
    return this.from - FUNDING_MARGIN_MS;
  }

  /**
   * Books into `kernel`, at engine time `t`, each of `reports` not booked yet and not older than the run's asking time,
   * journaling each; returns those booked.
   */
  book(kernel: Kernel, journal: Journal, reports: readonly VenueFundingReport[], t: number): VenueFundingReport[] {
    const out: VenueFundingReport[] = [];
    for (const r of reports) {
      if (this.booked.has(r.executionId) || r.tsEvent < this.since()) continue;
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
}
