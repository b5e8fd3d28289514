import { archBackcast } from './backcast.js';
import type { HamiltonFilterResult } from './hamilton-filter.js';
import { ergodicDistribution, ROW_SUM_TOLERANCE, validateModel, type MsGarchModel } from './ms-garch-model.js';
import { RegimeError } from './regime-error.js';
import { studentTLogConstant } from './special-functions.js';

/**
 * One Hamilton-filter step of the MS-GARCH model for return r = `returns[index]` (pure kernel over preallocated
 * arrays; no allocation: every double is read from and written to Float64Arrays, because V8 boxes — allocates —
 * a double passed to or returned from a call it does not inline).
 *
 * On entry `variance[k] = h_{k,t-1}`, `residual[k] = e_{k,t-1}` and `filtered = P(s_{t-1} | r_1..r_{t-1})`. On exit
 * `variance[k] = h_{k,t} = omega_k + alpha_k e_{k,t-1}^2 + beta_k h_{k,t-1}`, `residual[k] = e_{k,t} = r − mean_k`,
 * `predicted = P(s_t | r_1..r_{t-1}) = P' filtered_{t-1}` and `filtered = P(s_t | r_1..r_t)`; adds
 * log f(r_t | r_1..r_{t-1}) to `totals[0]`, writes it to `totals[1]` and increments `totals[2]` (a number returned from
 * a non-inlined call would be boxed, i.e. allocated, by V8; writing into a Float64Array is not).
 *
 * State k's density is exp(logConstant_k − q_k) / sqrt(h_k) with q_k = e_k^2 / (2 h_k) for a Gaussian state
 * (nu_k = Infinity, logConstant_k = −½ ln 2π) and q_k = (ν+1)/2 · ln(1 + e_k^2 / ((ν−2) h_k)) for a Student-t state
 * (logConstant_k = {@link studentTLogConstant}). Densities are scaled by exp(min_k (q_k − logConstant_k)) over states
 * with positive predicted probability, so a bar underflows only if every such state gives it zero density.
 * @throws RegimeError `filter_degenerate` when every state gives the bar zero likelihood (or r is not finite).
 * @internal
 */
export function filterStep(
  k: number,
  mean: Float64Array,
  omega: Float64Array,
  alpha: Float64Array,
  beta: Float64Array,
  nu: Float64Array,
  logConstant: Float64Array,
  transition: Float64Array,
  returns: Float64Array,
  index: number,
  variance: Float64Array,
  residual: Float64Array,
  predicted: Float64Array,
  filtered: Float64Array,
  totals: Float64Array,
): void {
  const r = returns[index]!;
  for (let j = 0; j < k; j++) {
    let p = 0;
    for (let i = 0; i < k; i++) p += filtered[i]! * transition[i * k + j]!;
    predicted[j] = p;
  }
  let qMin = Infinity;
  for (let s = 0; s < k; s++) {
    const e = residual[s]!;
    const h = omega[s]! + alpha[s]! * e * e + beta[s]! * variance[s]!;
    variance[s] = h;
    const d = r - mean[s]!;
    residual[s] = d;
    const v = nu[s]!;
    const q = (v === Infinity ? (0.5 * d * d) / h : 0.5 * (v + 1) * Math.log1p((d * d) / ((v - 2) * h))) - logConstant[s]!;
    filtered[s] = q; // scratch: q_k − logConstant_k
    if (predicted[s]! > 0 && q < qMin) qMin = q;
  }
  let sum = 0;
  for (let s = 0; s < k; s++) {
    const g = predicted[s]! * (Math.exp(qMin - filtered[s]!) / Math.sqrt(variance[s]!));
    filtered[s] = g;
    sum += g;
  }
  if (!(sum > 0 && sum < Infinity)) {
    throw new RegimeError('filter_degenerate', `every state gives return ${r} zero likelihood (sum of predicted × density was ${sum})`, { parameter: 'r', value: r, sum });
  }
  const inv = 1 / sum;
  for (let s = 0; s < k; s++) filtered[s] = filtered[s]! * inv;
  const l = Math.log(sum) - qMin;
  totals[0] = totals[0]! + l;
  totals[1] = l;
  totals[2] = totals[2]! + 1;
}

/** Returns the per-state log normalising constants of a model's densities ({@link filterStep}). @internal */
export function logConstants(nu: Float64Array): Float64Array {
  return Float64Array.from(nu, (v) => studentTLogConstant(v));
}

/** How a filter starts: the pre-sample variance and the distribution of the state before the first bar. */
export interface RegimeFilterStart {
  /**
   * Pre-sample variance h_{-1} = e_{-1}^2 used for every state (return units squared), as arch's backcast:
   * the first bar's variance is h_{k,0} = omega_k + (alpha_k + beta_k) · initialVariance.
   */
  readonly initialVariance: number;
  /** P(s_{-1} = k); default the ergodic distribution of `transition` (statsmodels' default). */
  readonly initialProbabilities?: ArrayLike<number>;
}

/**
 * Incremental (one bar at a time) Hamilton filter of an {@link MsGarchModel} for live use. `update(r)` writes into
 * preallocated Float64Arrays and allocates nothing; read `filtered` (decisions), `predicted`, `variance` after it.
 * Batch filtering ({@link filterRegimes}) is this object's `update` repeated, so the two agree bit for bit.
 * @example
 * const filter = new RegimeFilter(fit.model, { initialVariance: fit.initialVariance });
 * for (const r of returns) { filter.update(r); useProbabilities(filter.filtered); }
 */
export class RegimeFilter {
  readonly model: MsGarchModel;
  readonly states: number;
  /** P(s_t = k | r_1..r_t) after the last update; before any update, P(s_{-1} = k). */
  readonly filtered: Float64Array;
  /** P(s_t = k | r_1..r_{t-1}) used by the last update. */
  readonly predicted: Float64Array;
  /** Conditional variance h_{k,t} of each state at the last updated bar (return units squared). */
  readonly variance: Float64Array;
  /** Residual e_{k,t} = r_t − mean_k of the last updated bar. */
  readonly residual: Float64Array;
  private readonly start: RegimeFilterStart;
  private readonly initial: Float64Array;
  private readonly mean: Float64Array;
  private readonly omega: Float64Array;
  private readonly alpha: Float64Array;
  private readonly beta: Float64Array;
  private readonly transition: Float64Array;
  private readonly nu: Float64Array;
  private readonly logConstant: Float64Array;
  /** [sum of log densities, last log density, bars] */
  private readonly totals = new Float64Array(3);
  /** The return being filtered (kernel input). */
  private readonly input = new Float64Array(1);

  /**
   * @throws RegimeError `invalid_model` for a model breaking a rule; `invalid_input` for a non-positive
   *   `initialVariance` or `initialProbabilities` of the wrong length or off the simplex.
   */
  constructor(model: MsGarchModel, start: RegimeFilterStart) {
    validateModel(model);
    const k = model.states;
    if (!(start.initialVariance > 0 && Number.isFinite(start.initialVariance))) {
      throw new RegimeError('invalid_input', `\`initialVariance\` must be finite and > 0, was ${start.initialVariance}`, { parameter: 'initialVariance', value: start.initialVariance });
    }
    this.initial = start.initialProbabilities === undefined ? ergodicDistribution(model.transition, k) : checkProbabilities(start.initialProbabilities, k);
    this.model = model;
    this.states = k;
    this.start = start;
    this.mean = model.mean;
    this.omega = model.omega;
    this.alpha = model.alpha;
    this.beta = model.beta;
    this.transition = model.transition;
    this.nu = model.nu;
    this.logConstant = logConstants(model.nu);
    this.filtered = new Float64Array(k);
    this.predicted = new Float64Array(k);
    this.variance = new Float64Array(k);
    this.residual = new Float64Array(k);
    this.reset();
  }

  /** Returns the filter to its start (before the first bar). */
  reset(): void {
    const h0 = this.start.initialVariance;
    this.variance.fill(h0);
    this.residual.fill(Math.sqrt(h0));
    this.filtered.set(this.initial);
    this.predicted.set(this.initial);
    this.totals[0] = 0;
    this.totals[1] = NaN;
    this.totals[2] = 0;
  }

  /**
   * Filters one more return `r` (log return, same scale as the model). Allocates nothing (V8 may box `r` at the
   * call site if it does not inline this small method; the kernel itself takes no doubles by value).
   * @throws RegimeError `filter_degenerate` when every state gives `r` zero likelihood (e.g. r is NaN).
   */
  update(r: number): void {
    this.input[0] = r;
    filterStep(this.states, this.mean, this.omega, this.alpha, this.beta, this.nu, this.logConstant, this.transition, this.input, 0, this.variance, this.residual, this.predicted, this.filtered, this.totals);
  }

  /** Writes P(s_{t+1} = k | r_1..r_t) (the next bar's prior) into `out` (length K). Allocates nothing. */
  forecast(out: Float64Array): void {
    const k = this.states;
    for (let j = 0; j < k; j++) {
      let p = 0;
      for (let i = 0; i < k; i++) p += this.filtered[i]! * this.transition[i * k + j]!;
      out[j] = p;
    }
  }

  /** Number of returns filtered since the start. */
  get bars(): number {
    return this.totals[2]!;
  }

  /** Sum of log f(r_t | r_1..r_{t-1}) over the filtered returns (0 before the first). */
  get logLikelihood(): number {
    return this.totals[0]!;
  }

  /** log f(r_t | r_1..r_{t-1}) of the last update (NaN before the first). */
  get lastLogDensity(): number {
    return this.totals[1]!;
  }
}

function checkProbabilities(values: ArrayLike<number>, k: number): Float64Array {
  if (values.length !== k) throw new RegimeError('invalid_input', `\`initialProbabilities\` must have ${k} entries, was ${values.length}`, { parameter: 'initialProbabilities', value: values.length });
  let sum = 0;
  for (let i = 0; i < k; i++) {
    const p = values[i]!;
    if (!(p >= 0 && p <= 1)) throw new RegimeError('invalid_input', `\`initialProbabilities[${i}]\` must be in [0, 1], was ${p}`, { parameter: 'initialProbabilities', index: i, value: p });
    sum += p;
  }
  if (!(Math.abs(sum - 1) <= ROW_SUM_TOLERANCE)) throw new RegimeError('invalid_input', `\`initialProbabilities\` must sum to 1, was ${sum}`, { parameter: 'initialProbabilities', value: sum });
  return Float64Array.from(values);
}

/** Output of {@link filterRegimes}: the Hamilton filter result plus per-state conditional variances. */
export interface MsGarchFilterResult extends HamiltonFilterResult {
  /** h_{k,t}, T×K row-major, return units squared. */
  readonly variance: Float64Array;
  /** The pre-sample variance used. */
  readonly initialVariance: number;
}

/** Options of {@link filterRegimes}. */
export interface FilterRegimesOptions {
  /** Default: {@link archBackcast} of `returns`. */
  readonly initialVariance?: number;
  /** Default: the ergodic distribution. */
  readonly initialProbabilities?: ArrayLike<number>;
}

/**
 * Filters a whole return series (log returns) through an MS-GARCH model: repeated {@link RegimeFilter} updates,
 * with each bar's state copied into T×K output matrices. `filtered[t * K + k] = P(s_t = k | r_1..r_t)` is causal:
 * it does not depend on returns after t.
 * @throws RegimeError `invalid_model`, `invalid_input` (as {@link RegimeFilter}), `filter_degenerate`.
 * @example
 * const out = filterRegimes(fit.model, returns, { initialVariance: fit.initialVariance });
 * out.filtered[t * out.states + k]; // P(s_t = k | r_1..r_t)
 */
export function filterRegimes(model: MsGarchModel, returns: Float64Array, options: FilterRegimesOptions = {}): MsGarchFilterResult {
  const initialVariance = options.initialVariance ?? archBackcast(returns);
  const start: RegimeFilterStart = options.initialProbabilities === undefined ? { initialVariance } : { initialVariance, initialProbabilities: options.initialProbabilities };
  const filter = new RegimeFilter(model, start);
  const k = model.states;
  const n = returns.length;
  const filtered = new Float64Array(n * k);
  const predicted = new Float64Array(n * k);
  const variance = new Float64Array(n * k);
  const logDensity = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    filter.update(returns[t]!);
    filtered.set(filter.filtered, t * k);
    predicted.set(filter.predicted, t * k);
    variance.set(filter.variance, t * k);
    logDensity[t] = filter.lastLogDensity;
  }
  return { states: k, bars: n, filtered, predicted, variance, logDensity, logLikelihood: filter.logLikelihood, initialVariance };
}
