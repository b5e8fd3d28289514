import type { RlSizerState } from '../sizing/index.js';

/**
 * Columns of the SAC sizer's observation, in order (exported as the actor's `feature_names`):
 * - `signal_z`: μ / σ_H, the signal's expected horizon log return over the regime model's horizon volatility, clipped
 *   to ±5 (0 without a prediction);
 * - `signal_confidence`: the latest prediction's confidence in [0, 1] (`RollingIc`);
 * - `rolling_ic`: rolling Spearman IC in [−1, 1] (0 while warming up) and `ic_ready` (1 once it is defined);
 * - `p_crisis`, `p_bear`, `p_neutral`, `p_bull`: filtered regime probabilities summed per label;
 * - `log_volatility`: ln σ_H (horizon volatility of the regime model, raw log-return units), clipped to [−12, 2];
 * - `kelly_fraction`: the capped, regime-scaled Kelly fraction (what PURE_KELLY holds), signed;
 * - `position_fraction`: current position notional / equity, signed;
 * - `unrealized_return`: sign(position) · ln(price / entry price) since the position was opened (0 when flat); the entry
 *   price is the close of the decision that found the position opened (fills are at the next open: an approximation);
 * - `drawdown`: 1 − equity / peak equity seen by the decisions, in [0, 1];
 * - `time_in_position`: ln(1 + bars held in the same direction) / 5 (0 when flat).
 */
export const SIZING_OBSERVATION_NAMES: readonly string[] = Object.freeze([
  'signal_z',
  'signal_confidence',
  'rolling_ic',
  'ic_ready',
  'p_crisis',
  'p_bear',
  'p_neutral',
  'p_bull',
  'log_volatility',
  'kelly_fraction',
  'position_fraction',
  'unrealized_return',
  'drawdown',
  'time_in_position',
]);

/** Version of the observation definition above (stored as the actor's `feature_spec_hash`; bump on any change). */
export const SIZING_OBSERVATION_SPEC = 'trade-matrix/sizing-observation@1';

const LABEL_SLOT: Readonly<Record<string, number>> = { crisis: 4, bear: 5, neutral: 6, bull: 7 };

/**
 * Builds the observation of {@link SIZING_OBSERVATION_NAMES} from the cascade's {@link RlSizerState}, one call per
 * decision (bar close). Path-dependent columns (entry price, bars in position, peak equity) are kept here, so one
 * builder serves one instrument's decisions in time order; the training environment and {@link SacRlSizer} share it,
 * so the policy sees the same numbers in training and in the cascade. Allocation-free.
 */
export class SizingObservation {
  /** Number of columns. */
  readonly size = SIZING_OBSERVATION_NAMES.length;
  private entryPrice = Number.NaN;
  private direction = 0;
  private barsHeld = 0;
  private peakEquity = Number.NaN;

  /** Writes the observation of `state` into `out` (length {@link size}) and advances the path state. */
  update(state: RlSizerState, out: Float32Array): void {
    const sigma = state.variance > 0 ? Math.sqrt(state.variance) : Number.NaN;
    const z = state.edge / sigma;
    out[0] = z === z ? (z > 5 ? 5 : z < -5 ? -5 : z) : 0;
    out[1] = state.signalConfidence === state.signalConfidence ? state.signalConfidence : 0;
    const icReady = state.ic === state.ic;
    out[2] = icReady ? state.ic : 0;
    out[3] = icReady ? 1 : 0;
    out[4] = out[5] = out[6] = out[7] = 0;
    for (let k = 0; k < state.regimeLabels.length; k++) {
      const slot = LABEL_SLOT[state.regimeLabels[k]!];
      if (slot !== undefined) out[slot] = out[slot]! + state.regimeProbabilities[k]!;
    }
    const logVol = Math.log(sigma);
    out[8] = logVol === logVol ? (logVol < -12 ? -12 : logVol > 2 ? 2 : logVol) : -12;
    out[9] = state.kellyFraction;
    out[10] = state.currentFraction;
    const direction = Math.sign(state.currentFraction);
    if (direction === 0) {
      this.barsHeld = 0;
      this.entryPrice = Number.NaN;
    } else if (direction !== this.direction) {
      this.barsHeld = 0;
      this.entryPrice = state.price;
    } else {
      this.barsHeld++;
    }
    this.direction = direction;
    out[11] = direction === 0 || this.barsHeld === 0 ? 0 : direction * Math.log(state.price / this.entryPrice);
    if (!(this.peakEquity >= state.equity)) this.peakEquity = state.equity;
    out[12] = this.peakEquity > 0 ? 1 - state.equity / this.peakEquity : 0;
    out[13] = Math.log1p(this.barsHeld) / 5;
  }
}
