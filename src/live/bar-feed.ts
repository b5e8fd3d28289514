import type { BarPage } from '../adapters/series-pages.js';
import { AppError } from '../core/app-error.js';
import type { Pacer } from './live-clock.js';

/** Where closed bars come from (the Bybit market-data client's kline pages; the local v5 server in tests). */
export interface ClosedBarSource {
  /** At most `limit` bars opening in [`since`, `until`] (epoch ms, inclusive), oldest first; may include the forming bar. */
  fetchBarsPage(symbol: string, timeframe: never, since: number, limit: number, until?: number): Promise<BarPage>;
}

/** One bar of one instrument as the feed hands it over. */
export interface LiveBar {
  readonly ts: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
}

/** The bars of every instrument that opened at `ts` (undefined where an instrument has none). */
export interface LiveBarSet {
  readonly ts: number;
  readonly bars: readonly (LiveBar | undefined)[];
}

export interface LiveBarFeedOptions {
  /** How long after a bar's close the venue is given to publish it before the first poll; default 2 s. */
  readonly graceMs?: number;
  /** Poll interval while a closed bar is not published yet; default 1 s. */
  readonly retryMs?: number;
  /** Bars per request; default 200. */
  readonly pageSize?: number;
  /** Called when a poll fails (the feed retries after `retryMs`). */
  readonly onError?: (error: unknown) => void;
}

export type LiveFeedErrorCode = 'feed_out_of_order';
export class LiveFeedError extends AppError<LiveFeedErrorCode> {}

/**
 * Closed bars of several instruments by REST polling, aligned to bar close plus a grace period: {@link next} waits
 * for the close of the bar after `afterTs` (no wait when it closed already: a missed bar after a restart or a long
 * poll is fetched and handed over in order, one bar time per call). A bar time is complete once every instrument
 * has its bar, or an instrument already has a later closed bar (the missing ones are then absent, as in a backtest
 * frame). Only closed bars are ever handed over (open time + timeframe ≤ wall time): the forming bar never is.
 */
export class LiveBarFeed {
  private readonly buffers: LiveBar[][];
  private readonly fetched: number[];
  private readonly graceMs: number;
  private readonly retryMs: number;
  private readonly pageSize: number;

  constructor(
    private readonly source: ClosedBarSource,
    private readonly symbols: readonly string[],
    private readonly timeframe: string,
    private readonly timeframeMs: number,
    private readonly pacer: Pacer,
    private readonly options: LiveBarFeedOptions = {},
  ) {
    this.buffers = symbols.map(() => []);
    this.fetched = symbols.map(() => -Infinity);
    this.graceMs = options.graceMs ?? 2_000;
    this.retryMs = options.retryMs ?? 1_000;
    this.pageSize = options.pageSize ?? 200;
  }

  /**
   * The next bar time after `afterTs` (a bar open time; the first call of a run passes the last bar it processed),
   * or undefined when the wait was interrupted (a stop request).
   */
  async next(afterTs: number): Promise<LiveBarSet | undefined> {
    const tf = this.timeframeMs;
    const want = afterTs + tf;
    if (want <= this.handed) this.rewind(); // asked for older bars again (a runner restarted on this feed)
    for (let attempt = 0; ; attempt++) {
      const target = attempt === 0 ? want + tf + this.graceMs : (await this.pacer.now()) + this.retryMs;
      if (!(await this.pacer.waitUntil(target))) return undefined;
      const now = await this.pacer.now();
      try {
        await this.fill(want, now);
      } catch (e) {
        this.options.onError?.(e);
        continue;
      }
      const set = this.take(want, now);
      if (set !== undefined) {
        this.handed = set.ts;
        return set;
      }
    }
  }

  private handed = -Infinity;

  /** Forgets buffered bars and fetch cursors. */
  private rewind(): void {
    for (const b of this.buffers) b.length = 0;
    this.fetched.fill(-Infinity);
    this.handed = -Infinity;
  }

  /** Fetches the closed bars opening at or after `want` of every instrument whose buffer does not reach past it. */
  private async fill(want: number, now: number): Promise<void> {
    const tf = this.timeframeMs;
    for (let i = 0; i < this.symbols.length; i++) {
      const buffer = this.buffers[i]!;
      while (buffer.length > 0 && buffer[0]!.ts < want) buffer.shift();
      if (buffer.length > 0) continue;
      const since = Math.max(want, this.fetched[i]! + tf);
      if (since + tf > now) continue; // nothing new can have closed
      const page = await this.source.fetchBarsPage(this.symbols[i]!, this.timeframe as never, since, this.pageSize);
      for (let k = 0; k < page.length; k++) {
        const ts = page.ts[k]!;
        if (ts < since || ts + tf > now) continue; // before the cursor, or still forming
        if (buffer.length > 0 && ts <= buffer[buffer.length - 1]!.ts) {
          throw new LiveFeedError('feed_out_of_order', `bars of ${this.symbols[i]} arrived out of order: ${ts} after ${buffer[buffer.length - 1]!.ts}`, { symbol: this.symbols[i], ts });
        }
        buffer.push({ ts, open: page.open[k]!, high: page.high[k]!, low: page.low[k]!, close: page.close[k]!, volume: page.volume[k]! });
        this.fetched[i] = ts;
      }
    }
  }

  /** The bar set of the earliest buffered time ≥ `want` when it is complete, else undefined. */
  private take(want: number, now: number): LiveBarSet | undefined {
    let first = Infinity;
    for (const b of this.buffers) if (b.length > 0 && b[0]!.ts < first) first = b[0]!.ts;
    if (first === Infinity) return undefined;
    // Complete when every instrument has its bar at `first`, or has moved past it (bar missing at the venue).
    const complete = this.buffers.every((b) => b.length > 0 && b[0]!.ts >= first);
    if (!complete) {
      // An instrument without any closed bar since `want` yet: wait for it unless a later bar time already closed.
      if (first + 2 * this.timeframeMs > now) return undefined;
    }
    const bars = this.buffers.map((b) => (b.length > 0 && b[0]!.ts === first ? b.shift() : undefined));
    return { ts: first, bars };
  }
}
