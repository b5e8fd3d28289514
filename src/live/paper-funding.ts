import type { MarketDataClient } from '../adapters/bybit/bybit-market-data-client.js';
import { applyFallback, fallbackUses, fundingIntervalOf, gridSettlementAfter, type FallbackUse, type FundingFallback, type FundingModel } from '../backtest/execution-models.js';

/**
 * A paper run's funding: the rate the venue published for each settlement (Bybit's funding history,
 * `/v5/market/funding/history`), asked once per settlement and perpetual before the bar whose close reaches it
 * ({@link prepare}), then charged by the runner as a backtest charges its funding table's (`FundingSchedule` at the
 * close of the bar that passed the settlement, before the strategy's decision). Each perpetual settles on its own
 * interval (Bybit's `fundingInterval`, read when the run starts). A settlement the venue does not list when asked (or a request
 * that fails) gets the experiment's stated fallback, as a backtest's missing table row does, and is named in the log.
 */
export class PaperFundingRates implements FundingModel {
  /** Per instrument: how often the fallback applied, and the first and last such settlement. */
  readonly fallbackUsed: FallbackUse[];
  /** Per instrument: the settlements asked and not yet passed, each with its rate (NaN: not listed). */
  private readonly rates: Map<number, number>[];

  /**
   * @param source the venue's public market data (the bar feed's client)
   * @param symbols the run's venue symbols, one per instrument
   * @param perpetual per instrument: whether it pays funding (spot instruments never do)
   * @param intervalsMs per instrument: the time between its settlements (Bybit `fundingInterval`: 1, 2, 4 or 8 h from
   *   00:00 UTC); absent or not a positive multiple of an hour: 8 h
   */
  constructor(
    private readonly source: Pick<MarketDataClient, 'fetchFundingPage'>,
    private readonly symbols: readonly string[],
    private readonly perpetual: readonly boolean[],
    readonly fallback: FundingFallback,
    private readonly log?: (line: string) => void,
    private readonly intervalsMs: readonly number[] = [],
  ) {
    if (symbols.length !== perpetual.length) throw new RangeError(`PaperFundingRates: ${symbols.length} symbols but ${perpetual.length} perpetual flags`);
    this.rates = symbols.map(() => new Map());
    this.fallbackUsed = fallbackUses(symbols.length);
  }

  charges(i: number): boolean {
    return this.perpetual[i] === true;
  }

  /** The settlement of instrument `i` after `after`: the next multiple of its interval (the 00/08/16 UTC grid for 8 h). */
  settlementAfter(i: number, after: number): number {
    if (!this.charges(i)) return Infinity;
    return gridSettlementAfter(after, fundingIntervalOf(this.intervalsMs, i));
  }

  /**
   * Asks the venue for every perpetual's rate of each of its settlements in (`after`, `tsClose`] (each once). Never
   * throws: what cannot be had gets the fallback at {@link rate}.
   */
  async prepare(after: number, tsClose: number): Promise<void> {
    for (let i = 0; i < this.symbols.length; i++) {
      if (!this.charges(i)) continue;
      const rates = this.rates[i]!;
      for (const s of rates.keys()) if (s <= after) rates.delete(s);
      for (let s = this.settlementAfter(i, after); s <= tsClose; s = this.settlementAfter(i, s)) {
        if (rates.has(s)) continue;
        rates.set(s, await this.ask(i, s));
      }
    }
  }

  rate(i: number, ts: number): { rate: number; source: 'table' | 'fallback' } | undefined {
    if (!this.charges(i)) return undefined;
    const r = this.rates[i]!.get(ts);
    if (r !== undefined && !Number.isNaN(r)) return { rate: r, source: 'table' };
    return applyFallback(this.fallback, this.fallbackUsed[i]!, ts);
  }

  /** The rate the venue lists for instrument `i`'s settlement `ts`; NaN (logged) when it lists none or cannot be asked. */
  private async ask(i: number, ts: number): Promise<number> {
    const symbol = this.symbols[i]!;
    try {
      const page = await this.source.fetchFundingPage(symbol, ts, 1, ts);
      for (let k = 0; k < page.length; k++) if (page.ts[k] === ts) return page.rate[k]!;
      this.log?.(`funding: the venue lists no ${symbol} rate for ${new Date(ts).toISOString()} yet; ${this.fallbackText()} applies`);
    } catch (e) {
      this.log?.(`funding: ${symbol} rate for ${new Date(ts).toISOString()} not available (${(e as Error).message}); ${this.fallbackText()} applies`);
    }
    return NaN;
  }

  private fallbackText(): string {
    return this.fallback.kind === 'constant' ? `the fallback rate ${this.fallback.rate}` : 'the fallback (no funding)';
  }
}
