import { checkBybitTimeframe, MAX_FUNDING_PAGE, type MarketDataClient } from '../adapters/bybit/bybit-market-data-client.js';
import type { SignalInputSource, TimedValue } from '../signals/signal-input-source.js';

/**
 * {@link SignalInputSource} from the venue a live run trades on: funding settlements from Bybit's funding history
 * (`/v5/market/funding/history`, paged) and the reference asset's close from its klines; DVOL (a Deribit series the
 * venue does not serve) from `dvol`, or none (the stage then marks it stale and its features NaN).
 * Bybit's funding is its own: a model trained on another venue's funding gets Bybit's — the CLI states it.
 */
export class VenueSignalInputs implements SignalInputSource {
  constructor(
    private readonly client: Pick<MarketDataClient, 'fetchFundingPage' | 'fetchBarsPage'>,
    private readonly dvolSource?: Pick<SignalInputSource, 'dvol'>,
  ) {}

  async funding(symbol: string, afterTs: number, upToTs: number): Promise<readonly TimedValue[]> {
    const out: TimedValue[] = [];
    // Windows of at most a page: a full page is ambiguous (Bybit answers the newest `limit` of the window), so the
    // window is halved and asked again. 60 days hold 180 settlements at Bybit's 8 h interval: one request per window.
    let windowMs = 60 * 86_400_000;
    let cursor = Number.isFinite(afterTs) ? afterTs + 1 : 0;
    while (cursor <= upToTs) {
      const end = Math.min(cursor + windowMs - 1, upToTs);
      const page = await this.client.fetchFundingPage(symbol, cursor, MAX_FUNDING_PAGE, end);
      if (page.length >= MAX_FUNDING_PAGE && windowMs > 60_000) {
        windowMs = Math.floor(windowMs / 2);
        continue;
      }
      for (let k = 0; k < page.length; k++) {
        const ts = page.ts[k]!;
        if (ts >= cursor && ts <= end && (out.length === 0 || ts > out[out.length - 1]!.ts)) out.push({ ts, value: page.rate[k]! });
      }
      cursor = end + 1;
    }
    return out;
  }

  async dvol(afterTs: number, upToTs: number): Promise<readonly TimedValue[]> {
    return this.dvolSource === undefined ? [] : this.dvolSource.dvol(afterTs, upToTs);
  }

  async barClose(symbol: string, timeframe: string, ts: number): Promise<number> {
    const page = await this.client.fetchBarsPage(symbol, checkBybitTimeframe(timeframe), ts, 1, ts);
    return page.length > 0 && page.ts[0] === ts ? page.close[0]! : NaN;
  }
}
