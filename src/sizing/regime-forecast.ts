import type { MsGarchModel } from '../regime/ms-garch-model.js';
import type { MsGarchFilterResult, RegimeFilter } from '../regime/regime-filter.js';
import { labelStates, type RegimeLabel } from '../regime/regime-labels.js';
import { invalidInput } from './sizing-error.js';

/**
 * What sizing reads from the regime model at the close of bar t (K states):
 * - `filtered[k]` = p_{k,t} = P(s_t = k | r_1..r_t): picks the regime fraction;
 * - `forecast[k]` = π_{k,t+1} = Σ_i p_{i,t} P_{ik} = P(s_{t+1} = k | r_1..r_t): weights the next-bar variance;
 * - `nextVariance[k]` = h_{k,t+1} = ω_k + α_k e_{k,t}² + β_k h_{k,t}: state k's conditional variance of the next
 *   bar, in the model's return units squared (known at t: GARCH variances are one step predictable);
 * - `labels[k]`: economic name of state k (`labelStates`).
 */
export interface RegimeState {
  readonly filtered: ArrayLike<number>;
  readonly forecast: ArrayLike<number>;
  readonly nextVariance: ArrayLike<number>;
  readonly labels: readonly RegimeLabel[];
}

/**
 * Returns the variance of the H-bar log return used by Kelly, in raw log-return units squared:
 *
 *   σ²_H = H · Σ_k π_{k,t+1} · h_{k,t+1} / s²      (s = `returnScale`, 100 for a model fitted on percent returns)
 *
 * i.e. the probability-weighted next-bar state variance, scaled by the horizon as if bars were independent with
 * that variance. It leaves out the spread of the state means (Σ π_k μ_k² − (Σ π_k μ_k)², tiny next to h for
 * bar-level returns) and the mean reversion of each GARCH variance over the H bars (it holds the next bar's
 * variance for all H; for H = 1 it is exact up to the means term).
 * @throws SizingError `invalid_input` when `horizonBars` < 1, `returnScale` <= 0 or the two arrays differ in length.
 * @example horizonVariance({ forecast: [0.5, 0.5], nextVariance: [1e-4, 3e-4] }, 4, 1) // 4 · 2e-4 = 8e-4
 */
export function horizonVariance(state: Pick<RegimeState, 'forecast' | 'nextVariance'>, horizonBars: number, returnScale: number): number {
  const k = state.forecast.length;
  if (state.nextVariance.length !== k) invalidInput('nextVariance', `have one entry per state (${k})`, state.nextVariance.length);
  if (!(horizonBars >= 1)) invalidInput('horizonBars', 'be >= 1', horizonBars);
  if (!(returnScale > 0)) invalidInput('returnScale', 'be > 0', returnScale);
  let v = 0;
  for (let s = 0; s < k; s++) v += state.forecast[s]! * state.nextVariance[s]!;
  return (horizonBars * v) / (returnScale * returnScale);
}

/**
 * A {@link RegimeState} read from a live {@link RegimeFilter} into preallocated arrays. Call {@link update} after
 * each `filter.update(r)`; `filtered` is the filter's own array (always current).
 * @example
 * const regime = new RegimeForecast(filter);        // labels from labelStates(filter.model)
 * filter.update(r); regime.update();
 * const variance = horizonVariance(regime, config.horizonBars, config.kelly.regimeReturnScale);
 */
export class RegimeForecast implements RegimeState {
  readonly filtered: Float64Array;
  readonly forecast: Float64Array;
  readonly nextVariance: Float64Array;
  readonly labels: readonly RegimeLabel[];
  private readonly filter: RegimeFilter;

  /** @throws SizingError `invalid_input` when `labels` does not have one entry per state. */
  constructor(filter: RegimeFilter, labels: readonly RegimeLabel[] = labelStates(filter.model)) {
    if (labels.length !== filter.states) invalidInput('labels', `have one entry per state (${filter.states})`, labels.length);
    this.filter = filter;
    this.labels = Object.freeze([...labels]);
    this.filtered = filter.filtered;
    this.forecast = new Float64Array(filter.states);
    this.nextVariance = new Float64Array(filter.states);
    this.update();
  }

  /** Recomputes `forecast` and `nextVariance` from the filter's last update. Allocates nothing. */
  update(): void {
    const f = this.filter, m = f.model, k = f.states;
    f.forecast(this.forecast);
    for (let s = 0; s < k; s++) {
      const e = f.residual[s]!;
      this.nextVariance[s] = m.omega[s]! + m.alpha[s]! * e * e + m.beta[s]! * f.variance[s]!;
    }
  }
}

/**
 * Vectorized σ²_H ({@link horizonVariance}) for every bar of a filtered series: `out[t]` is the variance of the
 * H-bar log return after the close of bar t (raw units squared), from `result = filterRegimes(model, returns)`.
 * Equals {@link RegimeForecast} + {@link horizonVariance} after each incremental update (same operations).
 * @throws SizingError `invalid_input` when `returns` and `result` differ in length, or as {@link horizonVariance}.
 */
export function horizonVariances(model: MsGarchModel, result: MsGarchFilterResult, returns: Float64Array, horizonBars: number, returnScale: number): Float64Array {
  const k = model.states, n = returns.length;
  if (result.bars !== n || result.states !== k) invalidInput('result', `be the filter output of these ${n} returns and ${k} states`, `${result.bars} bars × ${result.states} states`);
  if (!(horizonBars >= 1)) invalidInput('horizonBars', 'be >= 1', horizonBars);
  if (!(returnScale > 0)) invalidInput('returnScale', 'be > 0', returnScale);
  const out = new Float64Array(n);
  const forecast = new Float64Array(k);
  for (let t = 0; t < n; t++) {
    const row = t * k;
    for (let j = 0; j < k; j++) {
      let p = 0;
      for (let i = 0; i < k; i++) p += result.filtered[row + i]! * model.transition[i * k + j]!;
      forecast[j] = p;
    }
    let v = 0;
    for (let s = 0; s < k; s++) {
      const e = returns[t]! - model.mean[s]!;
      v += forecast[s]! * (model.omega[s]! + model.alpha[s]! * e * e + model.beta[s]! * result.variance[row + s]!);
    }
    out[t] = (horizonBars * v) / (returnScale * returnScale);
  }
  return out;
}
