import { fundingIntervalOf } from '../backtest/execution-models.js';
import { HOUR_MS } from '../core/time.js';

/** Where a live run asks a contract's funding interval as the venue states it now (BybitMarketDataClient). */
export interface FundingIntervalSource {
  /** The funding interval (ms) the venue states now for the contract `symbol`. */
  fundingIntervalNow(symbol: string): Promise<number>;
}

/**
 * Each instrument's funding interval during a live run (Bybit's `fundingInterval`: 1, 2, 4 or 8 h from 00:00 UTC),
 * from the ones read when the run started: the venue changes a contract's interval while it trades (e.g. 8 h to 4 h
 * while its rate stays at the cap, and back), so a run asks it again ({@link refresh}) on a sign of a change (a
 * settlement off the interval's grid, or one of its settlements without a rate or payment: PaperFundingRates,
 * LiveRunner) and follows it from there. Without a source the intervals stay as they started.
 */
export class FundingIntervals {
  private readonly ms: number[];

  /**
   * @param initialMs per instrument, the interval when the run starts (absent or not a positive whole number of hours: 8 h)
   * @param symbols the run's venue symbols, one per instrument
   */
  constructor(
    initialMs: readonly number[],
    private readonly symbols: readonly string[],
    private readonly source?: FundingIntervalSource,
    private readonly log?: (line: string) => void,
  ) {
    this.ms = symbols.map((_, i) => fundingIntervalOf(initialMs, i));
  }

  /** Instrument `i`'s interval as last known (ms). */
  of(i: number): number {
    return this.ms[i]!;
  }

  /** The intervals as last known, per instrument (a view: it follows each {@link refresh}). */
  get all(): readonly number[] {
    return this.ms;
  }

  /**
   * Asks the venue for instrument `i`'s interval now and keeps it (said when it changed); keeps the last known one
   * (said) when it cannot be asked. Never throws. Returns the interval from now on.
   */
  async refresh(i: number): Promise<number> {
    const was = this.ms[i]!;
    if (this.source === undefined) return was;
    const symbol = this.symbols[i]!;
    let now: number;
    try {
      now = fundingIntervalOf([await this.source.fundingIntervalNow(symbol)], 0);
    } catch (e) {
      this.log?.(`funding: ${symbol}'s funding interval not available (${(e as Error).message}); ${was / HOUR_MS} h kept`);
      return was;
    }
    if (now !== was) {
      this.log?.(`funding: ${symbol} settles every ${now / HOUR_MS} h now (was ${was / HOUR_MS} h; the venue's fundingInterval)`);
      this.ms[i] = now;
    }
    return now;
  }
}
