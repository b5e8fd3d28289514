import { z } from 'zod';
import type { FeatureKernel, StreamHistory } from './bar-stream.js';
import { CalendarKernel, calendarFeatures } from './calendar.js';
import { ReturnCorrelationKernel, rollingReturnCorrelation } from './cross-asset.js';
import { DvolChangeKernel, DvolLevelKernel, dvolChange, dvolLevel } from './dvol.js';
import type { FeatureInputs } from './feature-inputs.js';
import { FundingRateLastKernel, FundingRateMeanKernel, fundingRateLast, fundingRateMean } from './funding.js';
import {
  BollingerPercentBKernel,
  MacdKernel,
  NormalizedAverageTrueRangeKernel,
  RelativeStrengthIndexKernel,
  VolumeZScoreKernel,
  bollingerPercentB,
  macd,
  normalizedAverageTrueRange,
  relativeStrengthIndex,
  volumeZScore,
} from './oscillators.js';
import { LogReturnKernel, logReturn } from './returns.js';
import { GarmanKlassVolatilityKernel, ParkinsonVolatilityKernel, RealizedVolatilityKernel, garmanKlassVolatility, parkinsonVolatility, realizedVolatility } from './volatility.js';

/** An optional input a feature needs besides the symbol's own bars. */
export type FeatureExtraInput = 'funding' | 'dvol' | 'referenceClose';

/**
 * A feature function of the pipeline: a batch form (whole arrays in, new arrays out) and an incremental kernel that
 * gives identical values bar by bar. Params are validated by `params` (a strict zod schema, every key required).
 */
export interface FeatureFunction<P extends Record<string, unknown> = Record<string, unknown>> {
  /** The exact definition, with units and warm-up. */
  readonly description: string;
  readonly params: z.ZodType<P>;
  /** Extra input the feature reads; computeBatch throws `missing_feature_input` when it is absent. */
  readonly input?: FeatureExtraInput;
  /** Output column suffixes; a single `''` means one column named like the spec entry. */
  outputs(params: P): readonly string[];
  /** History the kernel reads back from the stream. */
  history(params: P): StreamHistory;
  /**
   * Bars an incremental state must see before its values match a run started at the first bar:
   * exactly for finite windows; within ~1e-13 relative for recursive (EMA / Wilder) smoothing.
   */
  warmup(params: P): number;
  /** Batch form; `barClose[t] = ts[t] + timeframeMs`. Returns one array per output. */
  batch(inputs: FeatureInputs, barClose: Float64Array, params: P): readonly Float64Array[];
  kernel(params: P): FeatureKernel;
}

/** Bars after which a seed's weight `(1 - alpha)^k` falls below 1e-13. */
function decayBars(alpha: number): number {
  return Math.ceil(Math.log(1e-13) / Math.log(1 - alpha));
}

const int = (min: number) => z.number().int().min(min);
const single = (): readonly string[] => [''];

function define<P extends Record<string, unknown>>(def: FeatureFunction<P>): FeatureFunction {
  return def as unknown as FeatureFunction;
}

/** Every feature function a spec may name in `fn`. Windows and periods are in bars of the input timeframe. */
export const FEATURE_FUNCTIONS = Object.freeze({
  'log-return': define<{ horizon: number }>({
    description: 'ln(close[t] / close[t - horizon]); unitless; NaN for t < horizon',
    params: z.object({ horizon: int(1) }).strict(),
    outputs: single,
    history: (p) => ({ bars: p.horizon }),
    warmup: (p) => p.horizon,
    batch: (x, _c, p) => [logReturn(x.close, p.horizon)],
    kernel: (p) => new LogReturnKernel(p.horizon, 'close'),
  }),
  'realized-volatility': define<{ window: number }>({
    description: 'sample std (divisor window-1) of the last `window` one-bar log returns ln(close[i]/close[i-1]), i = t-window+1..t; log return per bar, not annualised; NaN for t < window',
    params: z.object({ window: int(2) }).strict(),
    outputs: single,
    history: (p) => ({ bars: p.window }),
    warmup: (p) => p.window,
    batch: (x, _c, p) => [realizedVolatility(x.close, p.window)],
    kernel: (p) => new RealizedVolatilityKernel(p.window),
  }),
  'parkinson-volatility': define<{ window: number }>({
    description: 'sqrt(mean over the last `window` bars of ln(high/low)^2 / (4 ln 2)); log return per bar; NaN for t < window-1',
    params: z.object({ window: int(1) }).strict(),
    outputs: single,
    history: () => ({ bars: 0 }),
    warmup: (p) => p.window - 1,
    batch: (x, _c, p) => [parkinsonVolatility(x.high, x.low, p.window)],
    kernel: (p) => new ParkinsonVolatilityKernel(p.window),
  }),
  'garman-klass-volatility': define<{ window: number }>({
    description: 'sqrt(mean over the last `window` bars of 0.5 ln(high/low)^2 - (2 ln 2 - 1) ln(close/open)^2), 0 if that mean < 0; log return per bar; NaN for t < window-1',
    params: z.object({ window: int(1) }).strict(),
    outputs: single,
    history: () => ({ bars: 0 }),
    warmup: (p) => p.window - 1,
    batch: (x, _c, p) => [garmanKlassVolatility(x.open, x.high, x.low, x.close, p.window)],
    kernel: (p) => new GarmanKlassVolatilityKernel(p.window),
  }),
  rsi: define<{ period: number }>({
    description: "Wilder RSI in [0, 100]: gains/losses of close[t]-close[t-1] smoothed with alpha = 1/period, seeded with the simple mean of the changes at t = 1..period; 100 when avgLoss = 0 (50 when both 0); first value at t = period",
    params: z.object({ period: int(1) }).strict(),
    outputs: single,
    history: () => ({ bars: 1 }),
    warmup: (p) => p.period + decayBars(1 / p.period),
    batch: (x, _c, p) => [relativeStrengthIndex(x.close, p.period)],
    kernel: (p) => new RelativeStrengthIndexKernel(p.period),
  }),
  macd: define<{ fast: number; slow: number; signal: number; normalize: boolean }>({
    description: 'line = EMA_fast(close) - EMA_slow(close), signal = EMA_signal(line), histogram = line - signal; EMA alpha = 2/(n+1) seeded with the simple mean of its first n inputs (signal starts at the first line value); divided by close[t] when normalize; line from t = slow-1, signal/histogram from t = slow+signal-2',
    params: z.object({ fast: int(1), slow: int(2), signal: int(1), normalize: z.boolean() }).strict(),
    outputs: () => ['line', 'signal', 'histogram'],
    history: () => ({ bars: 0 }),
    warmup: (p) => p.slow + p.signal + decayBars(2 / (p.slow + 1)) + decayBars(2 / (p.signal + 1)),
    batch: (x, _c, p) => {
      const m = macd(x.close, p.fast, p.slow, p.signal, p.normalize);
      return [m.line, m.signal, m.histogram];
    },
    kernel: (p) => new MacdKernel(p.fast, p.slow, p.signal, p.normalize),
  }),
  atr: define<{ period: number }>({
    description: 'Wilder ATR / close[t]: TR[t] = max(high-low, |high-close[t-1]|, |low-close[t-1]|) for t >= 1, smoothed with alpha = 1/period seeded with the simple mean of TR[1..period]; fraction of price; first value at t = period',
    params: z.object({ period: int(1) }).strict(),
    outputs: single,
    history: () => ({ bars: 1 }),
    warmup: (p) => p.period + decayBars(1 / p.period),
    batch: (x, _c, p) => [normalizedAverageTrueRange(x.high, x.low, x.close, p.period)],
    kernel: (p) => new NormalizedAverageTrueRangeKernel(p.period),
  }),
  'bollinger-percent-b': define<{ window: number; width: number }>({
    description: '(close[t] - (m - width*sd)) / (2*width*sd) with m, sd = mean and population std (divisor window) of close[t-window+1..t]; 0.5 when sd = 0; first value at t = window-1',
    params: z.object({ window: int(2), width: z.number().positive() }).strict(),
    outputs: single,
    history: (p) => ({ bars: p.window - 1 }),
    warmup: (p) => p.window - 1,
    batch: (x, _c, p) => [bollingerPercentB(x.close, p.window, p.width)],
    kernel: (p) => new BollingerPercentBKernel(p.window, p.width),
  }),
  'volume-zscore': define<{ window: number; log: boolean }>({
    description: '(x[t] - m) / sd with x = ln(1 + volume) if log else volume, m, sd = mean and sample std (divisor window-1) of x[t-window+1..t]; 0 when sd = 0; first value at t = window-1',
    params: z.object({ window: int(2), log: z.boolean() }).strict(),
    outputs: single,
    history: () => ({ bars: 0 }),
    warmup: (p) => p.window - 1,
    batch: (x, _c, p) => [volumeZScore(x.volume, p.window, p.log)],
    kernel: (p) => new VolumeZScoreKernel(p.window, p.log),
  }),
  'funding-rate-last': define<Record<string, never>>({
    description: 'rate of the latest funding settlement with ts <= bar close (usable from bar closes >= settlement time); fraction per settlement; NaN before the first',
    params: z.object({}).strict(),
    input: 'funding',
    outputs: single,
    history: () => ({ bars: 0, funding: 1 }),
    warmup: () => 0,
    batch: (x, close) => [fundingRateLast(close, x.funding!)],
    kernel: () => new FundingRateLastKernel(),
  }),
  'funding-rate-mean': define<{ count: number }>({
    description: 'mean of the last `count` settled funding rates (ts <= bar close), summed oldest first; fraction per settlement; NaN until `count` are usable',
    params: z.object({ count: int(1) }).strict(),
    input: 'funding',
    outputs: single,
    history: (p) => ({ bars: 0, funding: p.count }),
    warmup: () => 0,
    batch: (x, close, p) => [fundingRateMean(close, x.funding!, p.count)],
    kernel: (p) => new FundingRateMeanKernel(p.count),
  }),
  'dvol-level': define<Record<string, never>>({
    description: 'DVOL close of the latest day D with D 00:00 UTC + 24h <= bar close (a day is usable only after it closed); annualised vol points; NaN before the first usable day',
    params: z.object({}).strict(),
    input: 'dvol',
    outputs: single,
    history: () => ({ bars: 0, dvol: 1 }),
    warmup: () => 0,
    batch: (x, close) => [dvolLevel(close, x.dvol!)],
    kernel: () => new DvolLevelKernel(),
  }),
  'dvol-change': define<{ days: number }>({
    description: 'ln(DVOL[D] / DVOL[D - days]) with D the latest usable day (as dvol-level) and day D - days looked up by date (NaN if missing); unitless',
    params: z.object({ days: int(1) }).strict(),
    input: 'dvol',
    outputs: single,
    history: (p) => ({ bars: 0, dvol: p.days + 1 }),
    warmup: () => 0,
    batch: (x, close, p) => [dvolChange(close, x.dvol!, p.days)],
    kernel: (p) => new DvolChangeKernel(p.days),
  }),
  'reference-log-return': define<{ horizon: number }>({
    description: 'ln(ref[t] / ref[t - horizon]) of the reference asset close (e.g. BTC) on the same bar grid; unitless; NaN for t < horizon',
    params: z.object({ horizon: int(1) }).strict(),
    input: 'referenceClose',
    outputs: single,
    history: (p) => ({ bars: p.horizon }),
    warmup: (p) => p.horizon,
    batch: (x, _c, p) => [logReturn(x.referenceClose!, p.horizon)],
    kernel: (p) => new LogReturnKernel(p.horizon, 'referenceClose'),
  }),
  'reference-correlation': define<{ window: number }>({
    description: 'Pearson correlation of the one-bar log returns of close and reference close over i = t-window+1..t (two-pass); NaN for t < window or zero variance',
    params: z.object({ window: int(2) }).strict(),
    input: 'referenceClose',
    outputs: single,
    history: (p) => ({ bars: p.window - 1 }),
    warmup: (p) => p.window,
    batch: (x, _c, p) => [rollingReturnCorrelation(x.close, x.referenceClose!, p.window)],
    kernel: (p) => new ReturnCorrelationKernel(p.window),
  }),
  calendar: define<Record<string, never>>({
    description: 'sin/cos(2π·hour/24) and sin/cos(2π·weekday/7) of the bar CLOSE time in UTC (fractional hour; weekday 0 = Sunday)',
    params: z.object({}).strict(),
    outputs: () => ['hour_sin', 'hour_cos', 'weekday_sin', 'weekday_cos'],
    history: () => ({ bars: 0 }),
    warmup: () => 0,
    batch: (_x, close) => {
      const c = calendarFeatures(close);
      return [c.hourSin, c.hourCos, c.weekdaySin, c.weekdayCos];
    },
    kernel: () => new CalendarKernel(),
  }),
} satisfies Record<string, FeatureFunction>);

/** Name of a feature function (`fn` of a spec entry). */
export type FeatureFunctionName = keyof typeof FEATURE_FUNCTIONS;
