import { seededRandom } from '../../src/core/random.js';
import { parseUtcMs, timeframeMs } from '../../src/core/time.js';
import type { BarFrame } from '../../src/data/bar-frame.js';

/** One synthetic bar: open, high, low, close, volume (base units). */
export type Ohlcv = readonly [open: number, high: number, low: number, close: number, volume: number];

export interface MakeFrameOptions {
  readonly timeframe: string;
  /** Open time of the first bar, ISO-8601 UTC. */
  readonly start: string;
  /** Bars of a single symbol (shorthand for `series: [bars]`). */
  readonly bars?: readonly Ohlcv[];
  /** Bars of several symbols on the same grid; every series must have the same length. */
  readonly series?: readonly (readonly Ohlcv[])[];
  readonly symbols?: readonly string[];
  readonly venue?: string;
}

/**
 * Builds a tiny {@link BarFrame} from literal bars on a regular grid starting at `start`. Every bar is `present`.
 * @throws Error when neither `bars` nor `series` is given, series lengths differ, or a bar has high < low.
 * @example
 * makeFrame({ timeframe: '4h', start: '2024-01-01T00:00:00Z', bars: [[100, 101, 99, 100, 10]] })
 */
export function makeFrame(options: MakeFrameOptions): BarFrame {
  const series = options.series ?? (options.bars ? [options.bars] : undefined);
  if (!series || series.length === 0) throw new Error('makeFrame: `bars` or `series` must be given');
  const length = series[0]!.length;
  if (series.some((s) => s.length !== length)) throw new Error(`makeFrame: every series must have ${length} bars, was ${series.map((s) => s.length).join(', ')}`);
  const step = timeframeMs(options.timeframe);
  const start = parseUtcMs(options.start);
  if (!Number.isFinite(start)) throw new Error(`makeFrame: \`start\` must be an ISO-8601 UTC time, was ${JSON.stringify(options.start)}`);
  const column = (field: number) => series.map((s) => Float64Array.from(s, (bar) => bar[field]!));
  for (const s of series) {
    for (const [k, [o, h, l, c]] of s.entries()) {
      if (!(h >= Math.max(o, c) && l <= Math.min(o, c))) throw new Error(`makeFrame: bar ${k} must have low <= open, close <= high, was ${[o, h, l, c].join(', ')}`);
    }
  }
  return {
    venue: options.venue ?? 'test',
    timeframe: options.timeframe,
    symbols: options.symbols ?? series.map((_, i) => `TEST${i}USDT`),
    ts: Float64Array.from({ length }, (_, k) => start + k * step),
    open: column(0),
    high: column(1),
    low: column(2),
    close: column(3),
    volume: column(4),
    present: series.map(() => new Uint8Array(length).fill(1)),
    missing: { policy: 'error', filled: series.map(() => 0) },
  };
}

/** A seeded random walk of `n` bars from 100 (close-to-close moves up to ±1.5 %, wicks up to 1 %), for makeFrame. */
export function randomWalkBars(n: number, seed: number): Ohlcv[] {
  const rand = seededRandom(seed);
  const bars: Ohlcv[] = [];
  let price = 100;
  for (let k = 0; k < n; k++) {
    const open = price;
    const close = open * Math.exp((rand() - 0.5) * 0.03);
    const high = Math.max(open, close) * (1 + rand() * 0.01);
    const low = Math.min(open, close) * (1 - rand() * 0.01);
    bars.push([open, high, low, close, 1000 + rand() * 1000]);
    price = close;
  }
  return bars;
}
