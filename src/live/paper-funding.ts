import type { MarketDataClient } from '../adapters/bybit/bybit-market-data-client.js';
import { applyFallback, fallbackUses, settlementAtOrBefore, type FallbackUse, type FundingFallback, type FundingModel } from '../backtest/execution-models.js';

/**
 * A paper run's funding: the rate the venue published for each settlement (Bybit's funding history,
 * `/v5/market/funding/history`), asked once per settlement and perpetual before the bar whose close reaches it
 * ({@link prepare}), then charged by the runner as a backtest charges its funding table's (`settleFunding` at the
 * settlement's close, before the strategy's decision). A settlement the venue does not list when asked (or a request
 * that fails) gets the experiment's stated fallback, as a backtest's missing table row does, and is named in the log.
 */
export class PaperFundingRates implements FundingModel {
  /** Per instrument: how often the fallback applied, and the first and last such settlement. */
  readonly fallbackUsed: FallbackUse[];
  /** Per instrument: the settlement asked last and its rate (NaN: not listed). */
  private readonly asked: Float64Array;
  private readonly rates: Float64Array;

  /**
   * @param source the venue's public market data (the bar feed's client)
   * @param symbols the run's venue symbols, one per instrument
   * @param perpetual per instrument: whether it pays funding (spot instruments never do)
   */
  constructor(
    private readonly source: Pick<MarketDataClient, 'fetchFundingPage'>,
    private readonly symbols: readonly string[],
    private readonly perpetual: readonly boolean[],
    readonly fallback: FundingFallback,
    private readonly log?: (line: string) => void,
  ) {
    if (symbols.length !== perpetual.length) throw new RangeError(`PaperFundingRates: ${symbols.length} symbols but ${perpetual.length} perpetual flags`);
    this.asked = new Float64Array(symbols.length).fill(NaN);
    this.rates = new Float64Array(symbols.length).fill(NaN);
    this.fallbackUsed = fallbackUses(symbols.length);
  }

  charges(i: number): boolean {
    return this.perpetual[i] === true;
  }

  /**
   * Asks the venue for every perpetual's rate of the settlement at `tsClose` (nothing when `tsClose` is not on the
   * 00/08/16 UTC grid, or was asked already). Never throws: what cannot be had gets the fallback at {@link rate}.
   */
  async prepare(tsClose: number): Promise<void> {
    if (settlementAtOrBefore(tsClose) !== tsClose) return;
    for (let i = 0; i < this.symbols.length; i++) {
      if (!this.charges(i) || this.asked[i] === tsClose) continue;
      this.asked[i] = tsClose;
      this.rates[i] = NaN;
      const symbol = this.symbols[i]!;
      try {
        const page = await this.source.fetchFundingPage(symbol, tsClose, 1, tsClose);
        for (let k = 0; k < page.length; k++) if (page.ts[k] === tsClose) this.rates[i] = page.rate[k]!;
        if (Number.isNaN(this.rates[i]!)) this.log?.(`funding: the venue lists no ${symbol} rate for ${new Date(tsClose).toISOString()} yet; ${this.fallbackText()} applies`);
      } catch (e) {
        this.log?.(`funding: ${symbol} rate for ${new Date(tsClose).toISOString()} not available (${(e as Error).message}); ${this.fallbackText()} applies`);
      }
    }
  }

  rate(i: number, ts: number): { rate: number; source: 'table' | 'fallback' } | undefined {
    if (!this.charges(i)) return undefined;
    const r = this.rates[i]!;
    if (this.asked[i] === ts && !Number.isNaN(r)) return { rate: r, source: 'table' };
    return applyFallback(this.fallback, this.fallbackUsed[i]!, ts);
  }

  private fallbackText(): string {
    return this.fallback.kind === 'constant' ? `the fallback rate ${this.fallback.rate}` : 'the fallback (no funding)';
  }
}
