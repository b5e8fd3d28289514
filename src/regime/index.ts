/**
 * Regime models: a K-state Markov-switching GARCH(1,1) (Haas, Mittnik & Paolella 2004) with Gaussian or Student-t
 * state densities, its Hamilton filter (batch and one-bar incremental), Kim smoother, constrained maximum-likelihood
 * fit with diagnostics and a degenerate verdict, K selection by held-out log score, simulation and
 * crisis/bear/neutral/bull labelling (mean and volatility jointly).
 *
 * Units: inputs are log returns r_t = ln(close_t / close_{t-1}) in any fixed scale (raw, or × 100 = percent as the
 * reference fixtures use); means are in that scale, omega and every variance h_{k,t} in that scale squared.
 *
 * Model (per state k = 0..K−1, run on every bar whatever the state):
 *   h_{k,t} = omega_k + alpha_k (r_{t-1} − mu_k)^2 + beta_k h_{k,t-1},   h_{k,-1} = (r_{-1} − mu_k)^2 := initialVariance
 *   r_t | s_t = k ~ mu_k + sqrt(h_{k,t}) z,  z ~ N(0, 1) or unit-variance Student-t(nu_k),   P(s_t = j | s_{t-1} = i) = transition[i K + j],   s_{-1} ~ ergodic distribution
 *
 * Decisions must use filtered probabilities P(s_t | r_1..r_t) ({@link RegimeFilter}, {@link filterRegimes}), which
 * are causal. {@link kimSmoother} output uses future returns and is for research plots only.
 */
export { archBackcast } from './backcast.js';
export {
  CONSTRAINT_DEFAULTS, FIT_DEFAULTS, fitMsGarch, UNCONSTRAINED, type FitConstraints, type FitMsGarchOptions, type FitStartSummary, type Innovations, type MsGarchFit, type VarianceMode,
} from './fit-ms-garch.js';
export { DEGENERATE_RULES, type DegenerateReason, type FitDiagnostics, type ParameterStandardErrors } from './fit-diagnostics.js';
export { labelStability, type LabelStability, type StabilityWindow } from './label-stability.js';
export { defaultRegimeCandidates, selectRegimeModel, type RegimeCandidate, type RegimeSelection, type RegimeSelectionRow, type SelectRegimeModelOptions } from './select-regime-model.js';
export { hamiltonFilter, kimSmoother, type HamiltonFilterResult } from './hamilton-filter.js';
export { ergodicDistribution, makeMsGarchModel, unconditionalVariance, validateModel, type MsGarchModel, type MsGarchModelInput } from './ms-garch-model.js';
export { filterRegimes, RegimeFilter, type FilterRegimesOptions, type MsGarchFilterResult, type RegimeFilterStart } from './regime-filter.js';
export { RegimeError, type RegimeErrorCode } from './regime-error.js';
export { canonicalStateOrder, driftScores, labelStates, permuteStates, type RegimeLabel } from './regime-labels.js';
export { simulateMsGarch, type MsGarchPath } from './simulate-ms-garch.js';
