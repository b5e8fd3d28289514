import { normalDraw, seededRandom } from '../core/random.js';
import { archBackcast } from './backcast.js';
import { diagnoseFit, type DegenerateReason, type FitDiagnostics } from './fit-diagnostics.js';
import { minimizeLbfgs, type LbfgsStop } from './lbfgs.js';
import { MsGarchObjective, type FitBounds, type Innovations, type VarianceMode } from './ms-garch-likelihood.js';
import { validateModel, type MsGarchModel } from './ms-garch-model.js';
import { filterRegimes } from './regime-filter.js';
import { canonicalStateOrder, labelStates, permuteStates, type RegimeLabel } from './regime-labels.js';
import { RegimeError } from './regime-error.js';

export type { Innovations, VarianceMode } from './ms-garch-likelihood.js';

/**
 * Bounds that keep a fit away from the degenerate corners of the MS-GARCH likelihood (a state that never persists,
 * an integrated GARCH, a state with near-zero or explosive variance that buys likelihood from a handful of bars).
 */
export interface FitConstraints {
  /** Lower bound of every stay probability P(s_t = k | s_{t-1} = k), in [0, 1) (default 0.5: a state lasts >= 2 bars on average). */
  readonly stayFloor: number;
  /** Each state's unconditional variance lies in [sample variance / ratio, sample variance · ratio] (default 25: volatility within 1/5..5× the sample's). */
  readonly varianceRatio: number;
  /** Upper bound of alpha_k + beta_k, i.e. 1 − ε (default 0.999). */
  readonly maxPersistence: number;
}

/** Defaults of {@link FitConstraints}. */
export const CONSTRAINT_DEFAULTS: FitConstraints = Object.freeze({ stayFloor: 0.5, varianceRatio: 25, maxPersistence: 0.999 });

/** Loosest constraints (the fit before the constraints existed): no stay floor, variance within 1e-6..1e6 × sample, alpha + beta < 1 − 1e-6. */
export const UNCONSTRAINED: FitConstraints = Object.freeze({ stayFloor: 0, varianceRatio: 1e6, maxPersistence: 1 - 1e-6 });

/** Options of {@link fitMsGarch}. Defaults are listed once, here and in {@link FIT_DEFAULTS}. */
export interface FitMsGarchOptions {
  /** Seed of the PRNG that perturbs starts 1.. (start 0 is the deterministic K-means start). Recorded in the result. */
  readonly seed: number;
  /** Number of states K (default 4). */
  readonly states?: number;
  /** 'garch' (default) or 'constant' (alpha = beta = 0: Markov-switching mean/variance). */
  readonly variance?: VarianceMode;
  /** 'normal' (default) or 't': unit-variance Student-t innovations with nu estimated per state (arch's StudentsT). */
  readonly innovations?: Innovations;
  /** Bounds of the fit (default {@link CONSTRAINT_DEFAULTS}); fields given replace the defaults one by one. */
  readonly constraints?: Partial<FitConstraints>;
  /** 'refuse' (default): throw RegimeError `degenerate` when the diagnostics find a degenerate state; 'report': return the fit with `verdict: 'degenerate'`. */
  readonly onDegenerate?: 'refuse' | 'report';
  /** A state whose expected share of bars (mean filtered probability) is below this is degenerate (default 0.02). */
  readonly minOccupancy?: number;
  /** Number of starts (default 8). Each runs `screenIterations` L-BFGS iterations; the `finalists` best continue. */
  readonly starts?: number;
  /** L-BFGS iterations per start before the finalists are chosen (default 40). */
  readonly screenIterations?: number;
  /** Number of best screened starts continued to convergence (default 3). */
  readonly finalists?: number;
  /** Total L-BFGS iteration budget of the winning start (default 400). */
  readonly maxIterations?: number;
  /** Stop when max |gradient of the mean negative log-likelihood| <= this (default 1e-6). */
  readonly gradientTolerance?: number;
  /** Stop when the mean negative log-likelihood improves by <= this (relative) on 3 consecutive iterations (default 1e-9). */
  readonly functionTolerance?: number;
  /** Pre-sample variance h_{-1} (return units squared); default {@link archBackcast} of the returns. */
  readonly initialVariance?: number;
}

/** Defaults of {@link FitMsGarchOptions}. */
export const FIT_DEFAULTS = Object.freeze({
  states: 4,
  variance: 'garch' as VarianceMode,
  innovations: 'normal' as Innovations,
  onDegenerate: 'refuse' as 'refuse' | 'report',
  minOccupancy: 0.02,
  starts: 8,
  screenIterations: 40,
  finalists: 3,
  maxIterations: 400,
  gradientTolerance: 1e-6,
  functionTolerance: 1e-9,
});

/** What one start did in the screening phase. */
export interface FitStartSummary {
  readonly start: number;
  /** Log-likelihood after the screening iterations (return units). */
  readonly logLikelihood: number;
  readonly iterations: number;
  /** Log-likelihood after the start was continued to convergence (finalists only). */
  readonly finalLogLikelihood?: number;
}

/** Result of {@link fitMsGarch}. */
export interface MsGarchFit {
  /** Fitted model, states in canonical order ({@link canonicalStateOrder}). */
  readonly model: MsGarchModel;
  /** Label of each state of `model` ({@link labelStates}: mean and volatility jointly). */
  readonly labels: readonly RegimeLabel[];
  /** Maximised log-likelihood of the returns (filtered with `initialVariance` and the ergodic start). */
  readonly logLikelihood: number;
  /** Number of free parameters. */
  readonly parameterCount: number;
  /** Bayesian information criterion: −2 logL + parameterCount · ln T. */
  readonly bic: number;
  /** Pre-sample variance used (return units squared); pass it to {@link RegimeFilter} / filterRegimes. */
  readonly initialVariance: number;
  readonly seed: number;
  readonly variance: VarianceMode;
  readonly innovations: Innovations;
  /** Constraints in force (defaults merged). */
  readonly constraints: FitConstraints;
  readonly starts: readonly FitStartSummary[];
  /** Index of the start whose optimisation gave the final model. */
  readonly bestStart: number;
  /** L-BFGS iterations of the final model's start, screening included. */
  readonly iterations: number;
  /** Likelihood (+ gradient) evaluations over all starts and the diagnostics. */
  readonly evaluations: number;
  /** Why the final optimisation stopped; 'gradient' and 'function' count as converged. */
  readonly stop: LbfgsStop;
  readonly converged: boolean;
  /** Standard errors, Hessian condition, start agreement, state occupancy. */
  readonly diagnostics: FitDiagnostics;
  /** 'degenerate' when `degenerateReasons` is not empty (the fit was returned because `onDegenerate` was 'report'). */
  readonly verdict: 'ok' | 'degenerate';
  readonly degenerateReasons: readonly DegenerateReason[];
}

/**
 * Fits an MS-GARCH model ({@link MsGarchModel}) by maximum likelihood to `returns` (log returns, any scale; the
 * fitted means are in that scale and variances in that scale squared).
 *
 * Method:
 * - Returns are standardised, z = (r − mean) / sd, and the parameters mapped back (the fit is scale-equivariant).
 * - Constraints by reparametrisation (see {@link FitConstraints}): each state's unconditional variance
 *   v_k = omega_k / (1 − alpha_k − beta_k) is a sigmoid inside [1 / varianceRatio, varianceRatio] (standardised
 *   units) and omega_k = v_k (1 − alpha_k − beta_k); (alpha, beta) = maxPersistence · softmax(c1, c2, 0)[0..1];
 *   transition row i = stayFloor · e_i + (1 − stayFloor) · softmax(d_i·) with d_ii = 0; Student-t nu_k is a sigmoid
 *   inside [2.05, 500]. The initial state distribution is the ergodic one; the pre-sample variance is
 *   `initialVariance` (arch's backcast by default).
 * - Objective: the Hamilton-filter log-likelihood with an exact adjoint (reverse-mode) gradient, minimised by
 *   L-BFGS (memory 100, strong-Wolfe line search).
 * - Starts: start s takes 1-D K-means (quantile-initialised Lloyd) on the log of a trailing rolling volatility
 *   (window 24, 60, 12, 120, 36 bars, cycled) — per cluster the mean and variance, transitions from the cluster
 *   sequence (diagonal clamped to [0.9, 0.99]) — and (alpha, beta) cycled over (0.05, 0.90), (0.02, 0.96),
 *   (0.10, 0.75), nu = 6; starts 1.. are perturbed by normal draws from the PRNG seeded with `seed`.
 * - Each start runs `screenIterations`; the `finalists` best continue to convergence (gradient or relative
 *   function tolerance) within `maxIterations`; the best of those is returned, states in canonical order.
 * - Diagnostics ({@link diagnoseFit}): Hessian standard errors, condition number, how many finalists reached the
 *   best likelihood, state occupancy, and the degenerate verdict (a constraint binding, a state hardly ever
 *   occupied, a Hessian that is not positive definite).
 * The log-likelihood surface of K >= 3 models has several local maxima: another seed may find a different one.
 * @throws RegimeError `invalid_input` naming the option or value: a non-finite or constant return series, fewer
 *   than 10 returns per free parameter, `states` outside [1, 12], a non-integer `seed`, bad iteration counts or
 *   constraints; `fit_failed` when no start reaches a finite log-likelihood; `degenerate` (with `onDegenerate:
 *   'refuse'`, the default) naming the first degenerate parameter, its value and the rule.
 * @example
 * const fit = fitMsGarch(logReturns, { seed: 7, states: 2, innovations: 't' });
 * fit.labels;                                               // e.g. ['bear', 'bull']
 * fit.diagnostics.standardErrors.nu;                        // per state
 * const filter = new RegimeFilter(fit.model, { initialVariance: fit.initialVariance });
 */
export function fitMsGarch(returns: Float64Array, options: FitMsGarchOptions): MsGarchFit {
  const o = { ...FIT_DEFAULTS, ...options };
  const constraints: FitConstraints = Object.freeze({ ...CONSTRAINT_DEFAULTS, ...options.constraints });
  const k = o.states;
  checkInteger('states', k, 1, 12);
  checkInteger('starts', o.starts, 1, 1000);
  checkInteger('screenIterations', o.screenIterations, 0, 1e6);
  checkInteger('maxIterations', o.maxIterations, 1, 1e6);
  checkInteger('finalists', o.finalists, 1, 1000);
  if (!Number.isInteger(o.seed)) throw new RegimeError('invalid_input', `\`seed\` must be an integer, was ${o.seed}`, { parameter: 'seed', value: o.seed });
  if (o.variance !== 'garch' && o.variance !== 'constant') throw new RegimeError('invalid_input', `\`variance\` must be 'garch' or 'constant', was ${JSON.stringify(o.variance)}`, { parameter: 'variance', value: o.variance });
  if (o.innovations !== 'normal' && o.innovations !== 't') throw new RegimeError('invalid_input', `\`innovations\` must be 'normal' or 't', was ${JSON.stringify(o.innovations)}`, { parameter: 'innovations', value: o.innovations });
  if (o.onDegenerate !== 'refuse' && o.onDegenerate !== 'report') throw new RegimeError('invalid_input', `\`onDegenerate\` must be 'refuse' or 'report', was ${JSON.stringify(o.onDegenerate)}`, { parameter: 'onDegenerate', value: o.onDegenerate });
  checkRange('constraints.stayFloor', constraints.stayFloor, 0, 0.99);
  checkRange('constraints.varianceRatio', constraints.varianceRatio, 1.01, 1e12);
  checkRange('constraints.maxPersistence', constraints.maxPersistence, 0.5, 1 - 1e-9);
  checkRange('minOccupancy', o.minOccupancy, 0, 0.5);
  const n = returns.length;
  const block = 2 + (o.variance === 'garch' ? 2 : 0) + (o.innovations === 't' ? 1 : 0);
  const parameterCount = k * block + k * (k - 1);
  if (n < 10 * parameterCount) throw new RegimeError('invalid_input', `\`returns\` must hold >= 10 × ${parameterCount} parameters = ${10 * parameterCount} values for ${k} states, was ${n}`, { parameter: 'returns', value: n });
  let sum = 0;
  for (let t = 0; t < n; t++) {
    const r = returns[t]!;
    if (!Number.isFinite(r)) throw new RegimeError('invalid_input', `\`returns[${t}]\` must be finite, was ${r}`, { parameter: 'returns', index: t, value: r });
    sum += r;
  }
  const center = sum / n;
  let ss = 0;
  for (let t = 0; t < n; t++) ss += (returns[t]! - center) ** 2;
  const scale = Math.sqrt(ss / n);
  if (!(scale > 0)) throw new RegimeError('invalid_input', `\`returns\` must not be constant, standard deviation was ${scale}`, { parameter: 'returns', value: scale });
  const initialVariance = o.initialVariance ?? archBackcast(returns);
  if (!(initialVariance > 0 && Number.isFinite(initialVariance))) throw new RegimeError('invalid_input', `\`initialVariance\` must be finite and > 0, was ${initialVariance}`, { parameter: 'initialVariance', value: initialVariance });

  const z = new Float64Array(n);
  for (let t = 0; t < n; t++) z[t] = (returns[t]! - center) / scale;
  const bounds: FitBounds = {
    varianceMin: 1 / constraints.varianceRatio,
    varianceMax: constraints.varianceRatio,
    maxPersistence: constraints.maxPersistence,
    stayFloor: k === 1 ? 0 : constraints.stayFloor,
  };
  const objective = new MsGarchObjective(z, k, o.variance, o.innovations, bounds, initialVariance / (scale * scale));
  const evaluate = (x: Float64Array, g: Float64Array | null): number => objective.evaluate(x, g);
  const random = seededRandom(o.seed);
  const lbfgs = { gradientTolerance: o.gradientTolerance, functionTolerance: o.functionTolerance, patience: 3 };

  const windows = [24, 60, 12, 120, 36];
  const screened: { x: Float64Array; value: number; iterations: number; start: number; stop: LbfgsStop }[] = [];
  for (let s = 0; s < o.starts; s++) {
    const [alpha0, beta0] = GARCH_STARTS[s % GARCH_STARTS.length]!;
    const theta = initialTheta(objective, z, windows[s % windows.length]!, alpha0, beta0);
    if (s > 0) jitter(theta, objective, random);
    const screen = o.starts === 1 ? o.maxIterations : Math.min(o.screenIterations, o.maxIterations);
    const r = screen > 0 ? minimizeLbfgs(evaluate, theta, { ...lbfgs, maxIterations: screen }) : { x: theta, value: objective.evaluate(theta, null), iterations: 0, stop: 'max_iterations' as LbfgsStop };
    screened.push({ x: r.x, value: r.value, iterations: r.iterations, start: s, stop: r.stop });
  }
  const toLogLikelihood = (value: number): number => -value * n - n * Math.log(scale);
  const finalValue = new Map<number, number>();
  // finalists: the best screened starts (NaN/Infinity last), each continued to convergence; ties keep start order
  const ranked = [...screened].sort((a, b) => (Number.isFinite(a.value) ? a.value : Infinity) - (Number.isFinite(b.value) ? b.value : Infinity) || a.start - b.start);
  let best: (typeof screened)[number] | null = null;
  for (const c of ranked.slice(0, o.starts === 1 ? 1 : o.finalists)) {
    let done = c;
    if (o.starts > 1 && c.stop === 'max_iterations' && c.iterations < o.maxIterations) {
      // continue (fresh L-BFGS memory) up to the total budget
      const r = minimizeLbfgs(evaluate, c.x, { ...lbfgs, maxIterations: o.maxIterations - c.iterations });
      done = { x: r.x, value: r.value, iterations: c.iterations + r.iterations, start: c.start, stop: r.stop };
    }
    finalValue.set(c.start, done.value);
    if (best === null || done.value < best.value) best = done;
  }
  const summaries: FitStartSummary[] = screened.map((c) => {
    const f = finalValue.get(c.start);
    return f === undefined ? { start: c.start, logLikelihood: toLogLikelihood(c.value), iterations: c.iterations } : { start: c.start, logLikelihood: toLogLikelihood(c.value), iterations: c.iterations, finalLogLikelihood: toLogLikelihood(f) };
  });
  const final = best!;
  if (!Number.isFinite(final.value) || !objective.decode(final.x)) {
    throw new RegimeError('fit_failed', `no start reached a finite log-likelihood (best mean negative log-likelihood was ${final.value}) for ${k} states`, { parameter: 'returns', value: final.value });
  }
  const unordered: MsGarchModel = {
    states: k,
    mean: Float64Array.from(objective.mean, (m) => center + scale * m),
    omega: Float64Array.from(objective.omega, (w) => w * scale * scale),
    alpha: Float64Array.from(objective.alpha),
    beta: Float64Array.from(objective.beta),
    transition: renormalizeRows(objective.transition, k),
    nu: Float64Array.from(objective.nu),
  };
  validateModel(unordered);
  const order = canonicalStateOrder(unordered);
  const model = permuteStates(unordered, order);
  const filtered = filterRegimes(model, returns, { initialVariance });
  const logLikelihood = filtered.logLikelihood;
  const finalLogLikelihoods = [...finalValue.values()].map(toLogLikelihood);
  const { diagnostics, reasons } = diagnoseFit({
    objective, theta: final.x, order, scale, model, filtered: filtered.filtered, constraints: bounds, finalLogLikelihoods, bestLogLikelihood: toLogLikelihood(final.value), minOccupancy: o.minOccupancy,
  });
  const verdict = reasons.length === 0 ? 'ok' : 'degenerate';
  if (verdict === 'degenerate' && o.onDegenerate === 'refuse') {
    const first = reasons[0]!;
    throw new RegimeError('degenerate', `${k}-state ${o.variance === 'garch' ? 'MS-GARCH' : 'Markov-switching'} fit (${o.innovations} innovations) refused as degenerate: ${reasons.map((r) => r.message).join('; ')}`, {
      parameter: first.parameter,
      state: first.state,
      value: first.value,
      reasons: reasons.map((r) => r.message),
    });
  }
  return {
    model,
    labels: labelStates(model),
    logLikelihood,
    parameterCount,
    bic: -2 * logLikelihood + parameterCount * Math.log(n),
    initialVariance,
    seed: o.seed,
    variance: o.variance,
    innovations: o.innovations,
    constraints,
    starts: summaries,
    bestStart: final.start,
    iterations: final.iterations,
    evaluations: objective.evaluations,
    stop: final.stop,
    converged: final.stop === 'gradient' || final.stop === 'function',
    diagnostics,
    verdict,
    degenerateReasons: reasons,
  };
}

function checkRange(name: string, value: number, min: number, max: number): void {
  if (!(value >= min && value <= max)) throw new RegimeError('invalid_input', `\`${name}\` must be in [${min}, ${max}], was ${value}`, { parameter: name, value });
}

function checkInteger(name: string, value: number, min: number, max: number): void {
  if (!(Number.isInteger(value) && value >= min && value <= max)) {
    throw new RegimeError('invalid_input', `\`${name}\` must be an integer in [${min}, ${max}], was ${value}`, { parameter: name, value });
  }
}

function renormalizeRows(p: Float64Array, k: number): Float64Array {
  const out = Float64Array.from(p);
  for (let i = 0; i < k; i++) {
    let s = 0;
    for (let j = 0; j < k; j++) s += out[i * k + j]!;
    for (let j = 0; j < k; j++) out[i * k + j] = out[i * k + j]! / s;
  }
  return out;
}

/** (alpha, beta) of the starts, cycled: moderate, high-persistence-low-alpha, low-persistence. */
const GARCH_STARTS: readonly (readonly [number, number])[] = [[0.05, 0.9], [0.02, 0.96], [0.1, 0.75]];

/**
 * Start values from 1-D K-means (Lloyd, quantile-initialised, deterministic) on log rolling volatility of the
 * standardised returns `z` over a trailing `window`.
 */
function initialTheta(objective: MsGarchObjective, z: Float64Array, window: number, alpha0: number, beta0: number): Float64Array {
  const k = objective.states, n = z.length;
  const theta = new Float64Array(objective.size);
  const label = new Int32Array(n);
  if (k > 1) {
    const w = Math.max(2, Math.min(window, Math.floor(n / 4)));
    const feature = new Float64Array(n);
    let s1 = 0, s2 = 0;
    for (let t = 0; t < n; t++) {
      s1 += z[t]!; s2 += z[t]! * z[t]!;
      if (t >= w) { s1 -= z[t - w]!; s2 -= z[t - w]! * z[t - w]!; }
      const m = Math.min(t + 1, w);
      const v = Math.max(s2 / m - (s1 / m) ** 2, 1e-8);
      feature[t] = 0.5 * Math.log(v);
    }
    // bars before a full window take the first full window's value
    for (let t = 0; t < w - 1 && t < n; t++) feature[t] = feature[w - 1]!;
    const sorted = Float64Array.from(feature).sort();
    const centers = Float64Array.from({ length: k }, (_, j) => sorted[Math.min(n - 1, Math.floor(((j + 0.5) / k) * n))]!);
    const total = new Float64Array(k), count = new Float64Array(k);
    for (let iter = 0; iter < 50; iter++) {
      let changed = false;
      total.fill(0); count.fill(0);
      for (let t = 0; t < n; t++) {
        let bestJ = 0, bestD = Infinity;
        for (let j = 0; j < k; j++) { const d = Math.abs(feature[t]! - centers[j]!); if (d < bestD) { bestD = d; bestJ = j; } }
        if (label[t] !== bestJ) { label[t] = bestJ; changed = true; }
        total[bestJ] = total[bestJ]! + feature[t]!; count[bestJ] = count[bestJ]! + 1;
      }
      for (let j = 0; j < k; j++) if (count[j]! > 0) centers[j] = total[j]! / count[j]!;
      if (!changed && iter > 0) break;
    }
  }
  const mean = new Float64Array(k), variance = new Float64Array(k), size = new Float64Array(k);
  for (let t = 0; t < n; t++) { const j = label[t]!; mean[j] = mean[j]! + z[t]!; size[j] = size[j]! + 1; }
  for (let j = 0; j < k; j++) mean[j] = size[j]! > 0 ? mean[j]! / size[j]! : 0;
  for (let t = 0; t < n; t++) { const j = label[t]!; variance[j] = variance[j]! + (z[t]! - mean[j]!) ** 2; }
  // an empty cluster gets a spread of variances around 1 so states stay distinct
  for (let j = 0; j < k; j++) variance[j] = size[j]! > 1 ? Math.max(variance[j]! / size[j]!, 1e-3) : 2 ** (j - k / 2);
  const counts = new Float64Array(k * k).fill(1);
  for (let t = 1; t < n; t++) counts[label[t - 1]! * k + label[t]!] = counts[label[t - 1]! * k + label[t]!]! + 1;
  const transition = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    let rowSum = 0;
    for (let j = 0; j < k; j++) rowSum += counts[i * k + j]!;
    const stay = Math.min(0.99, Math.max(0.9, counts[i * k + i]! / rowSum));
    let offSum = 0;
    for (let j = 0; j < k; j++) if (j !== i) offSum += counts[i * k + j]!;
    for (let j = 0; j < k; j++) transition[i * k + j] = j === i ? stay : ((1 - stay) * counts[i * k + j]!) / offSum;
  }
  objective.encode(mean, variance, new Float64Array(k).fill(alpha0), new Float64Array(k).fill(beta0), new Float64Array(k).fill(6), transition, theta);
  return theta;
}

/** Perturbs a start: means by 0.1 sd, the variance, GARCH, nu and transition logits by 0.5 (standard normal draws). */
function jitter(theta: Float64Array, objective: MsGarchObjective, random: () => number): void {
  const b = objective.block;
  for (let i = 0; i < theta.length; i++) {
    const isMean = i < objective.states * b && i % b === 0;
    theta[i] = theta[i]! + (isMean ? 0.1 : 0.5) * normalDraw(random);
  }
}
