import { AppError } from '../core/app-error.js';
import type { FeatureErrorCode } from './feature-inputs.js';

/** Which barrier ended a triple-barrier label. */
export const BARRIER = { none: 0, profit: 1, stop: -1, vertical: 2 } as const;

/** Options of {@link tripleBarrierLabels}. */
export interface TripleBarrierOptions {
  /** Profit-take barrier in volatility units: hit when side · ln(price / entry) >= profit · σ_t (> 0). */
  readonly profit: number;
  /** Stop-loss barrier in volatility units: hit when side · ln(price / entry) <= −stop · σ_t (> 0). */
  readonly stop: number;
  /** Vertical barrier: the label ends at bar t + maxBars at the latest (integer >= 1). */
  readonly maxBars: number;
  /**
   * Side per bar (+1 long, −1 short, 0 or NaN = no position: label NaN); absent = long everywhere. With a side the
   * label says whether that bet would have won (meta-labelling, López de Prado 2018 ch. 3.6).
   */
  readonly side?: Float64Array;
  /** Intrabar extremes: with both, barriers are touched by the bar's high/low (the close otherwise). */
  readonly high?: Float64Array;
  readonly low?: Float64Array;
  /** Label when the vertical barrier ends it: `sign` of the side-signed return (0 when exactly 0), or always `zero`. Default `sign`. */
  readonly vertical?: 'sign' | 'zero';
}

/** Result of {@link tripleBarrierLabels}; every array is aligned with the input bars. */
export interface TripleBarrierLabels {
  /** +1 profit barrier first, −1 stop first, sign (or 0) at the vertical barrier; NaN when not known (see {@link tripleBarrierLabels}). */
  readonly label: Float64Array;
  /** Index of the bar whose data decided the label (the bar the label becomes known at); −1 when the label is NaN. */
  readonly end: Int32Array;
  /** Side-signed log return from entry to the exit price (the barrier level when a barrier is touched, the close at the vertical barrier); NaN when unknown. */
  readonly ret: Float64Array;
  /** {@link BARRIER} code of the barrier that ended the label (`none` when NaN). */
  readonly barrier: Int8Array;
  /** 1 where the profit and stop barriers were both touched within the deciding bar (resolved as stop, the conservative reading). */
  readonly tie: Uint8Array;
}

function fail(message: string, context: Record<string, unknown>): never {
  throw new AppError<FeatureErrorCode>('invalid_feature_params', message, context);
}

/**
 * Returns triple-barrier labels (López de Prado 2018, "Advances in Financial Machine Learning", ch. 3.4): a position
 * entered at `close[t]` with side s_t ends at the first of
 * - the profit barrier: s_t · ln(p / close[t]) >= profit · σ_t,
 * - the stop barrier: s_t · ln(p / close[t]) <= −stop · σ_t,
 * - the vertical barrier: bar t + maxBars (label = sign of the side-signed close return, or 0),
 * where σ_t = `volatility[t]` is a causal per-bar log-return volatility known at t, and p runs over bars t+1.. (their
 * close, or the favourable and adverse extremes of high/low when given). Inclusive comparisons (touching = hit).
 * Ties — both barriers touched within one bar (possible only with high/low) — resolve as the stop (conservative,
 * the order inside a bar is unknown) and are flagged in `tie`.
 * Causal: label t is decided by bars t..end[t] only, so purging uses `end` (not t + maxBars). The label is NaN (end −1)
 * when close[t], σ_t or the side is missing, non-finite or non-positive (σ), when a bar before the decision has a
 * non-finite price (whether it crossed a barrier is unknown), or when the data stops before any barrier: the label is
 * not known yet.
 * @throws AppError `invalid_feature_params` for non-positive barriers, a bad `maxBars` or arrays of other lengths.
 * @example
 * tripleBarrierLabels(Float64Array.of(100, 101, 103, 99), Float64Array.of(0.01, 0.01, 0.01, 0.01), { profit: 2, stop: 2, maxBars: 3 }).label;
 * // [1 (ln 1.03 >= 0.02 at bar 2), -1 (ln(99/101) <= -0.02 at bar 3), -1 (bar 3), NaN (no later bar)]
 */
export function tripleBarrierLabels(close: Float64Array, volatility: Float64Array, options: TripleBarrierOptions): TripleBarrierLabels {
  const { profit, stop, maxBars, side, high, low } = options;
  const vertical = options.vertical ?? 'sign';
  const n = close.length;
  if (!(Number.isFinite(profit) && profit > 0)) fail(`triple-barrier: \`profit\` must be a finite number > 0 (volatility units), was ${profit}`, { profit });
  if (!(Number.isFinite(stop) && stop > 0)) fail(`triple-barrier: \`stop\` must be a finite number > 0 (volatility units), was ${stop}`, { stop });
  if (!(Number.isInteger(maxBars) && maxBars >= 1)) fail(`triple-barrier: \`maxBars\` must be an integer >= 1, was ${maxBars}`, { maxBars });
  if (vertical !== 'sign' && vertical !== 'zero') fail(`triple-barrier: \`vertical\` must be 'sign' or 'zero', was ${JSON.stringify(vertical)}`, { vertical });
  for (const [name, a] of [['volatility', volatility], ['side', side], ['high', high], ['low', low]] as const) {
    if (a !== undefined && a.length !== n) fail(`triple-barrier: \`${name}\` must have ${n} values like \`close\`, had ${a.length}`, { name, length: a.length });
  }
  if ((high === undefined) !== (low === undefined)) fail('triple-barrier: `high` and `low` must be given together', { high: high !== undefined, low: low !== undefined });
  const label = new Float64Array(n).fill(NaN);
  const end = new Int32Array(n).fill(-1);
  const ret = new Float64Array(n).fill(NaN);
  const barrier = new Int8Array(n);
  const tie = new Uint8Array(n);
  for (let t = 0; t < n; t++) {
    const entry = close[t]!;
    const sigma = volatility[t]!;
    const s = side === undefined ? 1 : side[t]!;
    if (!(entry > 0 && Number.isFinite(entry) && sigma > 0 && Number.isFinite(sigma) && (s === 1 || s === -1))) continue;
    const up = profit * sigma, down = -stop * sigma;
    const last = t + maxBars; // beyond the data: a barrier inside it can still decide the label, else it stays NaN
    for (let j = t + 1; j <= Math.min(last, n - 1); j++) {
      const c = close[j]!;
      let favourable: number, adverse: number;
      if (high !== undefined) {
        const hi = high[j]!, lo = low![j]!;
        if (!(hi > 0 && lo > 0 && c > 0 && Number.isFinite(hi) && Number.isFinite(lo) && Number.isFinite(c))) break;
        favourable = s === 1 ? Math.log(hi / entry) : -Math.log(lo / entry);
        adverse = s === 1 ? Math.log(lo / entry) : -Math.log(hi / entry);
      } else {
        if (!(c > 0 && Number.isFinite(c))) break;
        favourable = adverse = s * Math.log(c / entry);
      }
      const hitProfit = favourable >= up, hitStop = adverse <= down;
      if (hitStop) {
        label[t] = -1;
        ret[t] = down;
        barrier[t] = BARRIER.stop;
        tie[t] = hitProfit ? 1 : 0;
        end[t] = j;
        break;
      }
      if (hitProfit) {
        label[t] = 1;
        ret[t] = up;
        barrier[t] = BARRIER.profit;
        end[t] = j;
        break;
      }
      if (j === last) {
        const r = s * Math.log(c / entry);
        label[t] = vertical === 'zero' ? 0 : Math.sign(r);
        ret[t] = r;
        barrier[t] = BARRIER.vertical;
        end[t] = j;
      }
    }
  }
  return { label, end, ret, barrier, tie };
}

/**
 * Returns the meta-label of each bar: 1 when the primary model's bet (side s_t, the triple barrier taken with that
 * side) ends with a positive side-signed return, 0 when it does not (stop, or a non-positive vertical return), NaN
 * where the bet's label is unknown or there is no bet. The secondary model learns P(meta-label = 1) to take or skip bets.
 * @example metaLabels(tripleBarrierLabels(close, sigma, { profit: 1, stop: 1, maxBars: 6, side })).
 */
export function metaLabels(labels: TripleBarrierLabels): Float64Array {
  const out = new Float64Array(labels.label.length).fill(NaN);
  for (let t = 0; t < out.length; t++) if (labels.end[t]! >= 0) out[t] = labels.ret[t]! > 0 ? 1 : 0;
  return out;
}
