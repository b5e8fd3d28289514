/** Pieces of live-runner tests: real Bybit bars served by the local v5 server on a virtual clock, and the matching backtest frame. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BybitExecutionClient } from '../../src/adapters/bybit/index.js';
import { BybitMarketDataClient } from '../../src/adapters/bybit/bybit-market-data-client.js';
import type { ExperimentConfig } from '../../src/backtest/run-experiment.js';
import { parseBacktestConfig } from '../../src/config/backtest-config.js';
import { timeframeMs } from '../../src/core/time.js';
import { FUNDING_INTERVAL_MS } from '../../src/backtest/execution-models.js';
import type { BarFrame } from '../../src/data/bar-frame.js';
import type { Instrument } from '../../src/core/instrument.js';
import type { Strategy } from '../../src/engine/strategy.js';
import { LiveBarFeed } from '../../src/live/bar-feed.js';
import { LiveRunner, type LiveRunSummary, type LiveStatus } from '../../src/live/live-runner.js';
import { VirtualTime, type Pacer } from '../../src/live/live-clock.js';
import { BybitV5Server, type BybitV5ServerData, type ServerBars } from './bybit-v5-server.js';
import { BybitV5Venue, TEST_API_KEY, TEST_API_SECRET, type BybitV5VenueOptions } from './bybit-v5-venue.js';
import { readSharedBars, type TestBars } from './bybit-test-data.js';

export const LIVE_SYMBOLS = ['BTCUSDT', 'ETHUSDT'] as const;

/**
 * The demo tests' experiment, validated as `tm live` validates a config file: SMA(10)/SMA(30) crossover (40 %
 * allocation, shorts allowed) on Bybit BTCUSDT and ETHUSDT 4h perps, 100,000 USDT at leverage 10, 2 bp slippage,
 * 29 warm-up bars.
 */
export function demoSmaConfig(name: string): ExperimentConfig {
  const raw = { name, strategy: 'sma-crossover', params: { fast: 10, slow: 30, allocation: 0.4, allowShort: true }, data: { venue: 'bybit', symbols: [...LIVE_SYMBOLS], timeframe: '4h', start: '2024-01-01', end: '2025-01-01' }, instruments: 'bybit-linear', funding: { venue: 'bybit', fallback: { kind: 'zero' } }, initialCash: 100_000, leverage: 10, slippage: { model: 'fixed', bps: 2 }, seed: 1, warmup: 29 };
  const parsed = parseBacktestConfig(raw, `${name}.json`);
  if (!parsed.success) throw parsed.error;
  return parsed.data as unknown as ExperimentConfig;
}

/** BTCUSDT and ETHUSDT 4h bars of the shared data on their common grid from `fromIso` on (`count` bars). */
export function sharedFrame(fromIso: string, count: number): BarFrame {
  const series = LIVE_SYMBOLS.map((s) => readSharedBars(`bybit/${s}-4h.csv.gz`));
  const from = Date.parse(fromIso);
  const starts = series.map((b) => b.ts.findIndex((t) => t >= from));
  if (starts.some((k) => k < 0 || series[0]!.ts[starts[0]!] !== series[1]!.ts[starts[1]!])) throw new Error(`shared 4h bars of ${LIVE_SYMBOLS.join(', ')} do not start together at ${fromIso}`);
  const pick = (b: TestBars, k: number, f: 'ts' | 'open' | 'high' | 'low' | 'close' | 'volume') => b[f].slice(k, k + count);
  const ts = pick(series[0]!, starts[0]!, 'ts');
  series.forEach((b, s) => {
    const own = pick(b, starts[s]!, 'ts');
    if (own.length !== count || own.some((t, k) => t !== ts[k])) throw new Error(`shared 4h bars of ${LIVE_SYMBOLS[s]} have gaps after ${fromIso}`);
  });
  return {
    venue: 'bybit',
    timeframe: '4h',
    symbols: [...LIVE_SYMBOLS],
    ts,
    open: series.map((b, s) => pick(b, starts[s]!, 'open')),
    high: series.map((b, s) => pick(b, starts[s]!, 'high')),
    low: series.map((b, s) => pick(b, starts[s]!, 'low')),
    close: series.map((b, s) => pick(b, starts[s]!, 'close')),
    volume: series.map((b, s) => pick(b, starts[s]!, 'volume')),
    present: series.map(() => new Uint8Array(count).fill(1)),
    missing: { policy: 'error', filled: series.map(() => 0) },
  };
}

/** `frame`'s bars as the local v5 server's klines of Bybit interval `interval` (default `240`: 4h), by symbol. */
export function serverKlines(frame: BarFrame, interval = '240'): Record<string, Record<string, ServerBars>> {
  return Object.fromEntries(frame.symbols.map((s, i) => [s, { [interval]: { ts: frame.ts, open: frame.open[i]!, high: frame.high[i]!, low: frame.low[i]!, close: frame.close[i]!, volume: frame.volume[i]! } }]));
}

/**
 * A local v5 server serving `frame`'s bars (Bybit interval 240) and `options.funding`'s funding history on a virtual
 * clock starting at `startTs`, a ccxt market-data client on it, and the live bar feed reading through that client.
 */
export async function liveMarket(frame: BarFrame, startTs: number, options: { graceMs?: number; funding?: BybitV5ServerData['funding']; instruments?: BybitV5ServerData['instruments'] } = {}) {
  const time = new VirtualTime(startTs);
  const klines = serverKlines(frame);
  const server = await BybitV5Server.start({ klines, now: () => time.current(), ...(options.funding !== undefined ? { funding: options.funding } : {}), ...(options.instruments !== undefined ? { instruments: options.instruments } : {}) });
  const market = new BybitMarketDataClient({ apiUrl: server.url, rateLimitMs: 1 });
  const feed = new LiveBarFeed(market, frame.symbols, frame.timeframe, timeframeMs(frame.timeframe), time, { graceMs: options.graceMs ?? 1_000, retryMs: 1_000, pageSize: 1000 });
  return {
    time,
    server,
    market,
    feed,
    async close() {
      await market.close();
      await server.close();
    },
  };
}

/**
 * A fast clock that also drives a venue's own price feed: whenever time passes a bar's close, `play(k)` is called
 * for bar k of the frame (once, in order) before the waiter resumes, so the venue has traded bar k (orders sent at
 * bar k-1's close meet bar k's open, as in a backtest) by the time the runner learns that bar k closed. A `play` that
 * returns a promise (a request to the venue, e.g. somebody trading by hand) is awaited before the waiter resumes.
 */
export class VenueDrivingTime implements Pacer {
  private played = 0;
  constructor(
    readonly time: VirtualTime,
    private readonly frame: Pick<BarFrame, 'ts' | 'timeframe'>,
    private readonly play: (k: number) => void | Promise<void>,
  ) {
    void this.catchUp();
  }
  current(): number {
    return this.time.current();
  }
  now(): Promise<number> {
    return this.time.now();
  }
  async waitUntil(t: number): Promise<boolean> {
    const ok = await this.time.waitUntil(t);
    await this.catchUp();
    return ok;
  }
  interrupt(): void {
    this.time.interrupt();
  }
  /** Plays every bar whose close is at or before now (synchronously unless a `play` returns a promise). */
  async catchUp(): Promise<void> {
    const tf = timeframeMs(this.frame.timeframe);
    const now = this.time.current();
    while (this.played < this.frame.ts.length && this.frame.ts[this.played]! + tf <= now) {
      const pending = this.play(this.played++);
      if (pending !== undefined) await pending;
    }
  }
}

/**
 * A local Bybit v5 venue for a demo run over `frame`, on a virtual clock from `startTs`: as the clock passes each bar's
 * close the venue prints that bar (every symbol's open, extremes and close), then `atPrints(k, venue, time)` runs (a
 * fault injected, a trade by hand; awaited when it returns a promise). With a market-data client of it and the pacer
 * for {@link demoLife}; their closing goes to `closers` (run by the test's afterEach).
 */
export async function demoVenue(
  frame: BarFrame,
  startTs: number,
  closers: (() => Promise<void>)[],
  atPrints?: (k: number, venue: BybitV5Venue, time: VirtualTime) => void | Promise<void>,
): Promise<{ readonly venue: BybitV5Venue; readonly market: BybitMarketDataClient; readonly pacer: VenueDrivingTime; readonly time: VirtualTime }> {
  const time = new VirtualTime(startTs);
  const venue = await BybitV5Venue.start({ server: { klines: serverKlines(frame) }, now: () => time.current(), slippageBps: 2, initialPrice: 1, recvWindowCheck: false });
  closers.push(() => venue.close());
  const pacer = new VenueDrivingTime(time, frame, (k) => {
    frame.symbols.forEach((s, i) => venue.bar({ open: frame.open[i]![k]!, high: frame.high[i]![k]!, low: frame.low[i]![k]!, close: frame.close[i]![k]!, volume: frame.volume[i]![k]! }, s));
    return atPrints?.(k, venue, time);
  });
  const market = new BybitMarketDataClient({ apiUrl: venue.url, rateLimitMs: 1 });
  closers.push(() => market.close());
  return { venue, market, pacer, time };
}

/**
 * One life of a demo run (real ccxt through BybitExecutionClient with the test keys) against a local venue on 4h bars:
 * the client, a bar feed from `market`, the runner; the client is closed when the life ends. A later life on the same
 * `dir` restarts the run.
 */
export async function demoLife(
  venue: BybitV5Venue,
  market: BybitMarketDataClient,
  pacer: VenueDrivingTime,
  run: { readonly runId: string; readonly dir: string; readonly instruments: readonly Instrument[]; readonly symbols: readonly string[]; readonly startTs: number; readonly maxBars: number; readonly warmupBars: number; readonly config: ExperimentConfig; readonly strategy: Strategy; readonly log?: (line: string) => void; readonly inFlightMs?: number; readonly unhalt?: boolean },
): Promise<{ readonly runner: LiveRunner; readonly summary: LiveRunSummary }> {
  const client = new BybitExecutionClient({ apiUrl: venue.url, rateLimitMs: 0, timeoutMs: 5_000, backoffBaseMs: 1, backoffMaxMs: 5 }, { instruments: run.instruments, keys: { apiKey: TEST_API_KEY, apiSecret: TEST_API_SECRET }, clock: { now: () => pacer.current() }, env: {} });
  try {
    await client.prepare();
    const feed = new LiveBarFeed(market, run.symbols, '4h', timeframeMs('4h'), pacer, { graceMs: 1_000, retryMs: 1_000, pageSize: 1000 });
    const runner = new LiveRunner(
      { runId: run.runId, mode: 'demo', instruments: run.instruments, timeframe: '4h', initialCash: 100_000, leverage: 10, dir: run.dir, startTs: run.startTs, maxBars: run.maxBars, warmupBars: run.warmupBars, config: run.config, ...(run.inFlightMs !== undefined ? { inFlightMs: run.inFlightMs } : {}), ...(run.unhalt === true ? { unhalt: true } : {}) },
      { feed, pacer, strategy: run.strategy, venue: client, ...(run.log !== undefined ? { log: run.log } : {}) },
    );
    return { runner, summary: await runner.run() };
  } finally {
    await client.close();
  }
}

/**
 * `tm live --demo` (the built CLI) as a child process on `venue`'s clock, with the test keys in its environment; its
 * stdout and stderr together in `out()`.
 */
export function spawnDemoLive(run: { readonly experiment: string; readonly runId: string; readonly dir: string; readonly apiUrl: string }, extra: readonly string[] = []): { readonly child: ChildProcess; readonly exited: Promise<number | null>; readonly out: () => string } {
  const { child, exited, text } = spawnTmWithKeys(['live', '--demo', '--experiment', run.experiment, '--run-id', run.runId, '--dir', run.dir, '--api-url', run.apiUrl, '--clock', 'venue', '--poll-ms', '10', '--grace-ms', '0', ...extra]);
  return { child, exited, out: text };
}

/**
 * `tm <args>` as an operator runs it: the built CLI in a child process, the test venue's keys in its environment.
 * `out`/`err`: what it wrote to stdout/stderr so far; `text`: both, in arrival order.
 */
export function spawnTmWithKeys(args: readonly string[]): { readonly child: ChildProcess; readonly exited: Promise<number | null>; readonly out: () => string; readonly err: () => string; readonly text: () => string } {
  const child = spawn(process.execPath, ['bin/tm.js', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, BYBIT_API_KEY: TEST_API_KEY, BYBIT_API_SECRET: TEST_API_SECRET } });
  let out = '', err = '', text = '';
  child.stdout!.on('data', (d) => {
    out += d;
    text += d;
  });
  child.stderr!.on('data', (d) => {
    err += d;
    text += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, out: () => out, err: () => err, text: () => text };
}

/** A live run folder's status.json, undefined before its first. */
export function readLiveStatus(dir: string): LiveStatus | undefined {
  const path = join(dir, 'status.json');
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as LiveStatus) : undefined;
}

/**
 * A local Bybit v5 venue trading `frame`'s bars on a clock a test moves: {@link now} starts at `startTs`, and
 * {@link catchUp} prints every bar of the frame that closed by then (the venue's market orders fill at the next
 * price it prints, or on arrival with `marketOrders: 'arrival'`). Its klines are the frame's.
 */
export class FrameVenue {
  /** The venue's clock (epoch ms). */
  now: number;
  private played = 0;
  private readonly tf: number;

  private constructor(
    readonly venue: BybitV5Venue,
    private readonly frame: BarFrame,
    startTs: number,
    private readonly fundingRate: number | undefined,
  ) {
    this.now = startTs;
    this.tf = timeframeMs(frame.timeframe);
  }

  /** `fundingRate`: funding settled at that rate (per 8 h) on every position at each close on the 00/08/16 UTC grid. */
  static async start(frame: BarFrame, startTs: number, options: Omit<BybitV5VenueOptions, 'server' | 'now'> & { readonly fundingRate?: number }): Promise<FrameVenue> {
    let self: FrameVenue | undefined;
    const { fundingRate, ...venueOptions } = options;
    const venue = await BybitV5Venue.start({ server: { klines: serverKlines(frame) }, now: () => self!.now, ...venueOptions });
    self = new FrameVenue(venue, frame, startTs, fundingRate);
    self.catchUp();
    return self;
  }

  /** Prints every bar that closed by {@link now} and was not printed yet (and settles funding at its close when due). */
  catchUp(): void {
    const f = this.frame;
    while (this.played < f.ts.length && f.ts[this.played]! + this.tf <= this.now) {
      const k = this.played++;
      f.symbols.forEach((s, i) => {
        this.venue.bar({ open: f.open[i]![k]!, high: f.high[i]![k]!, low: f.low[i]![k]!, close: f.close[i]![k]!, volume: f.volume[i]![k]! }, s);
        if (this.fundingRate !== undefined && (f.ts[k]! + this.tf) % FUNDING_INTERVAL_MS === 0) this.venue.settleFunding(this.fundingRate, s);
      });
    }
  }

  /** Moves the clock one bar on and prints the bar that closed. */
  advance(): void {
    this.now += this.tf;
    this.catchUp();
  }

  close(): Promise<void> {
    return this.venue.close();
  }
}
