/**
 * Regime models: a K-state Markov-switching GARCH(1,1) (Haas, Mittnik & Paolella 2004) with Gaussian state
 * densities, its Hamilton filter (batch and one-bar incremental), Kim smoother, maximum-likelihood fit, simulation
 * and crisis/bear/neutral/bull labelling.
 *
 * Units: inputs are log returns r_t = ln(close_t / close_{t-1}) in any fixed scale (raw, or × 100 = percent as the
 * reference fixtures use); means are in that scale, omega and every variance h_{k,t} in that scale squared.
 *
 * Model (per state k = 0..K−1, run on every bar whatever the state):
 *   h_{k,t} = omega_k + alpha_k (r_{t-1} − mu_k)^2 + beta_k h_{k,t-1},   h_{k,-1} = (r_{-1} − mu_k)^2 := initialVariance
 *   r_t | s_t = k ~ N(mu_k, h_{k,t}),   P(s_t = j | s_{t-1} = i) = transition[i K + j],   s_{-1} ~ ergodic distribution
 *
 * Decisions must use filtered probabilities P(s_t | r_1..r_t) ({@link RegimeFilter}, {@link filterRegimes}), which
 * are causal. {@link kimSmoother} output uses future returns and is for research plots only.
 */
export { archBackcast } from './backcast.js';
export { FIT_DEFAULTS, fitMsGarch, type FitMsGarchOptions, type FitStartSummary, type MsGarchFit, type VarianceMode } from './fit-ms-garch.js';
export { hamiltonFilter, kimSmoother, type HamiltonFilterResult } from './hamilton-filter.js';
export { ergodicDistribution, makeMsGarchModel, unconditionalVariance, validateModel, type MsGarchModel, type MsGarchModelInput } from './ms-garch-model.js';
export { filterRegimes, RegimeFilter, type FilterRegimesOptions, type MsGarchFilterResult, type RegimeFilterStart } from './regime-filter.js';
export { RegimeError, type RegimeErrorCode } from './regime-error.js';
export { canonicalStateOrder, labelStates, permuteStates, type RegimeLabel } from './regime-labels.js';
export { simulateMsGarch, type MsGarchPath } from './simulate-ms-garch.js';
