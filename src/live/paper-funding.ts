import type { MarketDataClient } from '../adapters/bybit/bybit-market-data-client.js';
import { applyFallback, fallbackUses, gridSettlementAfter, type FallbackUse, type FundingFallback, type FundingModel } from '../backtest/execution-models.js';
import { HOUR_MS } from '../core/time.js';
import { FundingIntervals, type FundingIntervalSource } from './funding-intervals.js';

/** Bybit's largest funding-history page (MAX_FUNDING_PAGE of the adapter, not imported: this module loads no ccxt). */
const FUNDING_PAGE = 200;

/** What a paper run's funding asks the venue: its funding history, and (optional) each contract's funding interval now. */
export type PaperFundingSource = Pick<MarketDataClient, 'fetchFundingPage'> & Partial<FundingIntervalSource>;

/**
 * A paper run's funding: the rate the venue published for each settlement (Bybit's funding history,
 * `/v5/market/funding/history`), asked before the bar whose close reaches it ({@link prepare}: one request per
 * perpetual for all of its settlements the close reaches), then charged by the runner as a backtest charges its funding
 * table's (`FundingSchedule` at the close of the bar that passed the settlement, before the strategy's decision). Each
 * perpetual settles on its own interval (Bybit's `fundingInterval`, read when the run starts). A settlement the venue
 * does not list when asked (or a request that fails) gets the experiment's stated fallback, as a backtest's missing
 * table row does, and is named in the log.
 *
 * The venue changes a contract's interval while it trades (e.g. 8 h to 4 h while its rate stays at the cap, and back).
 * Every settlement the venue lists is charged, so one of a shorter new interval is not lost: it is charged at the close
 * that asked (the first of the old interval's settlements after it, late). A listing off the interval's grid, or a
 * settlement of it the venue does not list, is the sign of a change: the interval is asked again then (when the source
 * can: `fundingIntervalNow`), and the settlements from then on follow it; a former interval's settlement the new one
 * lacks is not a missing rate (no fallback). The runner takes the new settlements through `FundingSchedule.replan`.
 * In the steady state this asks nothing more than the rates.
 */
export class PaperFundingRates implements FundingModel {
  /** Per instrument: how often the fallback applied, and the first and last such settlement. */
  readonly fallbackUsed: FallbackUse[];
  /** Per instrument: the settlements asked and not yet passed, each with its rate (NaN: not listed). */
  private readonly rates: Map<number, number>[];
  /** Per instrument: its funding interval as last known. */
  private readonly intervals: FundingIntervals;
  /** Per instrument: the close through which its settlements were asked (−Infinity: none yet). */
  private readonly askedThrough: Float64Array;

  /**
   * @param source the venue's public market data (the bar feed's client)
   * @param symbols the run's venue symbols, one per instrument
   * @param perpetual per instrument: whether it pays funding (spot instruments never do)
   * @param intervalsMs per instrument: the time between its settlements (Bybit `fundingInterval`: 1, 2, 4 or 8 h from
   *   00:00 UTC); absent or not a positive multiple of an hour: 8 h
   */
  constructor(
    private readonly source: PaperFundingSource,
    private readonly symbols: readonly string[],
    private readonly perpetual: readonly boolean[],
    readonly fallback: FundingFallback,
    private readonly log?: (line: string) => void,
    intervalsMs: readonly number[] = [],
  ) {
    if (symbols.length !== perpetual.length) throw new RangeError(`PaperFundingRates: ${symbols.length} symbols but ${perpetual.length} perpetual flags`);
    this.rates = symbols.map(() => new Map());
    this.fallbackUsed = fallbackUses(symbols.length);
    this.intervals = new FundingIntervals(intervalsMs, symbols, source.fundingIntervalNow === undefined ? undefined : (source as FundingIntervalSource), log);
    this.askedThrough = new Float64Array(symbols.length).fill(-Infinity);
  }

  /**
   * A restarted run: instrument `i`'s settlements are asked from `lastSettled[i]` on (the last one its previous life
   * settled, FundingSchedule.lastSettled), not from the first close's start: one of a shorter interval that the
   * previous life passed without knowing of it (it had not asked yet) is listed and charged at this life's first ask.
   * Call before the first {@link prepare}.
   */
  resumeAfter(lastSettled: readonly number[]): void {
    for (let i = 0; i < this.symbols.length; i++) if (this.askedThrough[i] === -Infinity && Number.isFinite(lastSettled[i])) this.askedThrough[i] = lastSettled[i]!;
  }

  /** Instrument `i`'s funding interval as last known (ms). */
  intervalOf(i: number): number {
    return this.intervals.of(i);
  }

  charges(i: number): boolean {
    return this.perpetual[i] === true;
  }

  /**
   * The settlement of instrument `i` after `after`: up to the close its settlements were asked through, the first one
   * asked (see {@link prepare}); after it, the next multiple of its interval (the 00/08/16 UTC grid for 8 h).
   */
  settlementAfter(i: number, after: number): number {
    if (!this.charges(i)) return Infinity;
    let first = Infinity;
    for (const s of this.rates[i]!.keys()) if (s > after && s < first) first = s;
    return Math.min(first, gridSettlementAfter(Math.max(after, this.askedThrough[i]!), this.intervals.of(i)));
  }

  /**
   * Asks the venue for every perpetual's settlements up to `tsClose` not asked yet (`after`: the close the runner's
   * schedule settled through; settlements up to it are forgotten), one request per perpetual whose settlement (on its
   * interval as known) the close reaches; the others are not asked. Each listed settlement is kept with its rate; a
   * settlement of the interval the venue lists no rate for gets the fallback at {@link rate}; a sign of a new interval
   * has it asked (see the class). Never throws.
   */
  async prepare(after: number, tsClose: number): Promise<void> {
    for (let i = 0; i < this.symbols.length; i++) {
      if (!this.charges(i)) continue;
      const rates = this.rates[i]!;
      for (const s of rates.keys()) if (s <= after) rates.delete(s);
      const from = this.askedThrough[i]! > -Infinity ? this.askedThrough[i]! : after;
      const was = this.intervals.of(i);
      if (gridSettlementAfter(from, was) > tsClose) continue;
      const listed = await this.listed(i, from, tsClose);
      let now = was;
      if (listed instanceof Map) {
        let changed = false;
        for (const s of listed.keys()) if (s % was !== 0) changed = true;
        for (let s = gridSettlementAfter(from, was); s <= tsClose && !changed; s = gridSettlementAfter(s, was)) if (!listed.has(s)) changed = true;
        if (changed) now = await this.intervals.refresh(i);
        for (const [s, rate] of listed) rates.set(s, rate);
      }
      // The settlements of both the former and the new interval that the venue does not list: the fallback.
      const coarse = Math.max(was, now);
      for (let s = gridSettlementAfter(from, coarse); s <= tsClose; s = gridSettlementAfter(s, coarse)) {
        if (rates.has(s)) continue;
        const when = new Date(s).toISOString();
        this.log?.(listed instanceof Map ? `funding: the venue lists no ${this.symbols[i]} rate for ${when} yet; ${this.fallbackText()} applies` : `funding: ${this.symbols[i]} rate for ${when} not available (${listed.message}); ${this.fallbackText()} applies`);
        rates.set(s, NaN);
      }
      this.askedThrough[i] = tsClose;
    }
  }

  rate(i: number, ts: number): { rate: number; source: 'table' | 'fallback' } | undefined {
    if (!this.charges(i)) return undefined;
    const r = this.rates[i]!.get(ts);
    if (r !== undefined && !Number.isNaN(r)) return { rate: r, source: 'table' };
    return applyFallback(this.fallback, this.fallbackUsed[i]!, ts);
  }

  /** The settlements (and rates) the venue lists for instrument `i` in (`from`, `to`]: one request; the error when it fails. */
  private async listed(i: number, from: number, to: number): Promise<Map<number, number> | Error> {
    const limit = Math.min(FUNDING_PAGE, Math.floor((to - from) / HOUR_MS) + 1); // Bybit settles at most hourly
    try {
      const page = await this.source.fetchFundingPage(this.symbols[i]!, from + 1, limit, to);
      const out = new Map<number, number>();
      for (let k = 0; k < page.length; k++) if (page.ts[k]! > from && page.ts[k]! <= to) out.set(page.ts[k]!, page.rate[k]!);
      return out;
    } catch (e) {
      return e as Error;
    }
  }

  private fallbackText(): string {
    return this.fallback.kind === 'constant' ? `the fallback rate ${this.fallback.rate}` : 'the fallback (no funding)';
  }
}
