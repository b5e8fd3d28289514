import { RegimeError } from './regime-error.js';

/**
 * Parameters of a K-state Markov-switching GARCH(1,1) model in the Haas, Mittnik & Paolella (2004) form.
 *
 * For returns r_t (log returns, in whatever scale the caller uses: variance parameters are in that scale squared):
 *
 *   r_t | s_t = k, r_1..r_{t-1}  ~  mean[k] + sqrt(h_{k,t}) · z,   z ~ N(0, 1) or unit-variance Student-t(nu[k])
 *   h_{k,t} = omega[k] + alpha[k] * e_{k,t-1}^2 + beta[k] * h_{k,t-1},   e_{k,t-1} = r_{t-1} - mean[k]
 *   P(s_t = j | s_{t-1} = i) = transition[i * K + j]
 *
 * Every state's variance recursion runs on every bar, on that state's own residual (r − mean[k]), whatever state
 * the chain is in: the density of r_t given s_t does not depend on earlier states, so the Hamilton filter is exact
 * with K states. alpha = beta = 0 gives a Markov-switching Gaussian with variance omega[k] (Hamilton 1989 without
 * autoregression). nu[k] = Infinity is a Gaussian state; a finite nu[k] > 2 is a Student-t state scaled to
 * variance h_{k,t} (arch's `StudentsT`): ln f = ln Γ((ν+1)/2) − ln Γ(ν/2) − ½ ln(π(ν−2)) − ½ ln h − (ν+1)/2 ln(1 + e²/((ν−2)h)).
 */
export interface MsGarchModel {
  /** Number of states K >= 1. */
  readonly states: number;
  /** State means mu_k, in return units. */
  readonly mean: Float64Array;
  /** GARCH constants omega_k > 0, in return units squared. */
  readonly omega: Float64Array;
  /** ARCH coefficients alpha_k >= 0. */
  readonly alpha: Float64Array;
  /** GARCH coefficients beta_k >= 0, alpha_k + beta_k < 1. */
  readonly beta: Float64Array;
  /** Row-stochastic K×K transition matrix, row-major: `transition[i * K + j] = P(s_t = j | s_{t-1} = i)`. */
  readonly transition: Float64Array;
  /** Degrees of freedom of each state's innovations: > 2 (Student-t, unit variance) or Infinity (Gaussian). */
  readonly nu: Float64Array;
}

/** Plain-number description of a model, as accepted by {@link makeMsGarchModel}. */
export interface MsGarchModelInput {
  readonly mean: ArrayLike<number>;
  readonly omega: ArrayLike<number>;
  /** Default: all 0 (no ARCH term). */
  readonly alpha?: ArrayLike<number>;
  /** Default: all 0 (no GARCH term). */
  readonly beta?: ArrayLike<number>;
  /** K rows of K probabilities, or K*K row-major numbers. */
  readonly transition: ArrayLike<number> | readonly (readonly number[])[];
  /** Degrees of freedom per state (> 2, or Infinity = Gaussian). Default: all Infinity (Gaussian states). */
  readonly nu?: ArrayLike<number>;
}

/** Tolerance on |row sum - 1| of a transition matrix. */
export const ROW_SUM_TOLERANCE = 1e-9;

/**
 * Returns a validated, frozen-shape {@link MsGarchModel} (arrays copied).
 * @throws RegimeError `invalid_model` naming the parameter, the rule and the value: lengths differ, a mean is not
 *   finite, omega <= 0, alpha or beta < 0, alpha + beta >= 1, nu <= 2 (and not Infinity), a transition entry outside
 *   [0, 1] or a row not summing to 1.
 * @example
 * makeMsGarchModel({ mean: [0.05, -0.1], omega: [0.02, 0.3], alpha: [0.05, 0.1], beta: [0.9, 0.8],
 *   transition: [[0.98, 0.02], [0.05, 0.95]] });
 */
export function makeMsGarchModel(input: MsGarchModelInput): MsGarchModel {
  const k = input.mean.length;
  if (!(k >= 1)) throw new RegimeError('invalid_model', `\`mean\` must have >= 1 entries (one per state), was ${k}`, { parameter: 'mean', value: k });
  const mean = Float64Array.from(input.mean);
  const omega = toLength('omega', input.omega, k);
  const alpha = input.alpha === undefined ? new Float64Array(k) : toLength('alpha', input.alpha, k);
  const beta = input.beta === undefined ? new Float64Array(k) : toLength('beta', input.beta, k);
  const rows = input.transition as ArrayLike<unknown>;
  const transition = rows.length > 0 && Array.isArray(rows[0])
    ? Float64Array.from((input.transition as readonly (readonly number[])[]).flatMap((row, i) => {
      if (row.length !== k) throw new RegimeError('invalid_model', `\`transition[${i}]\` must have ${k} entries, was ${row.length}`, { parameter: 'transition', row: i, value: row.length });
      return row;
    }))
    : Float64Array.from(input.transition as ArrayLike<number>);
  if (transition.length !== k * k) throw new RegimeError('invalid_model', `\`transition\` must have ${k}×${k} = ${k * k} entries, was ${transition.length}`, { parameter: 'transition', value: transition.length });
  const nu = input.nu === undefined ? new Float64Array(k).fill(Infinity) : toLength('nu', input.nu, k);
  const model: MsGarchModel = { states: k, mean, omega, alpha, beta, transition, nu };
  validateModel(model);
  return model;
}

function toLength(name: string, values: ArrayLike<number>, k: number): Float64Array {
  if (values.length !== k) throw new RegimeError('invalid_model', `\`${name}\` must have ${k} entries (one per state, like \`mean\`), was ${values.length}`, { parameter: name, value: values.length });
  return Float64Array.from(values);
}

/**
 * Checks every rule of {@link MsGarchModel}.
 * @throws RegimeError `invalid_model` naming the first parameter that breaks a rule and its value.
 */
export function validateModel(model: MsGarchModel): void {
  const k = model.states;
  if (!(Number.isInteger(k) && k >= 1)) throw new RegimeError('invalid_model', `\`states\` must be an integer >= 1, was ${k}`, { parameter: 'states', value: k });
  for (const name of ['mean', 'omega', 'alpha', 'beta', 'nu'] as const) {
    if (model[name].length !== k) throw new RegimeError('invalid_model', `\`${name}\` must have ${k} entries, was ${model[name].length}`, { parameter: name, value: model[name].length });
  }
  if (model.transition.length !== k * k) throw new RegimeError('invalid_model', `\`transition\` must have ${k * k} entries, was ${model.transition.length}`, { parameter: 'transition', value: model.transition.length });
  for (let s = 0; s < k; s++) {
    const m = model.mean[s]!, w = model.omega[s]!, a = model.alpha[s]!, b = model.beta[s]!;
    if (!Number.isFinite(m)) throw new RegimeError('invalid_model', `\`mean[${s}]\` must be finite, was ${m}`, { parameter: 'mean', state: s, value: m });
    if (!(w > 0 && Number.isFinite(w))) throw new RegimeError('invalid_model', `\`omega[${s}]\` must be finite and > 0, was ${w}`, { parameter: 'omega', state: s, value: w });
    if (!(a >= 0 && Number.isFinite(a))) throw new RegimeError('invalid_model', `\`alpha[${s}]\` must be finite and >= 0, was ${a}`, { parameter: 'alpha', state: s, value: a });
    if (!(b >= 0 && Number.isFinite(b))) throw new RegimeError('invalid_model', `\`beta[${s}]\` must be finite and >= 0, was ${b}`, { parameter: 'beta', state: s, value: b });
    const v = model.nu[s]!;
    if (!(v > 2)) throw new RegimeError('invalid_model', `\`nu[${s}]\` must be > 2 (finite variance) or Infinity (Gaussian), was ${v}`, { parameter: 'nu', state: s, value: v });
    if (!(a + b < 1)) throw new RegimeError('invalid_model', `\`alpha[${s}] + beta[${s}]\` must be < 1 (covariance stationary state), was ${a + b}`, { parameter: 'alpha+beta', state: s, value: a + b });
    let sum = 0;
    for (let j = 0; j < k; j++) {
      const p = model.transition[s * k + j]!;
      if (!(p >= 0 && p <= 1)) throw new RegimeError('invalid_model', `\`transition[${s}][${j}]\` must be in [0, 1], was ${p}`, { parameter: 'transition', row: s, column: j, value: p });
      sum += p;
    }
    if (!(Math.abs(sum - 1) <= ROW_SUM_TOLERANCE)) throw new RegimeError('invalid_model', `\`transition[${s}]\` must sum to 1 (±${ROW_SUM_TOLERANCE}), was ${sum}`, { parameter: 'transition', row: s, value: sum });
  }
}

/**
 * Returns the unconditional variance of each state's GARCH recursion, omega_k / (1 − alpha_k − beta_k), in return
 * units squared: the long-run variance if the chain stayed in state k forever.
 */
export function unconditionalVariance(model: MsGarchModel): Float64Array {
  const out = new Float64Array(model.states);
  for (let k = 0; k < model.states; k++) out[k] = model.omega[k]! / (1 - model.alpha[k]! - model.beta[k]!);
  return out;
}

/**
 * Returns the stationary (ergodic) distribution pi of a row-stochastic K×K matrix: pi' P = pi', sum(pi) = 1.
 * Solved as A' pi = 1 with A = I − P + 1 1' (Gaussian elimination with partial pivoting), which equals the
 * pseudo-inverse solution statsmodels uses for an irreducible chain.
 * @throws RegimeError `invalid_model` when A is singular (the chain has no unique stationary distribution).
 */
export function ergodicDistribution(transition: Float64Array, states: number): Float64Array {
  const k = states;
  const a = new Float64Array(k * k);
  // a = A' = I − P' + 1 1'
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) a[i * k + j] = (i === j ? 1 : 0) - transition[j * k + i]! + 1;
  const pi = new Float64Array(k).fill(1);
  if (!solveInPlace(a, pi, k)) throw new RegimeError('invalid_model', '`transition` must describe an irreducible chain (unique stationary distribution), was singular', { parameter: 'transition' });
  return pi;
}

/**
 * Solves `m x = b` for a K×K row-major `m` in place (m is destroyed, b becomes x). Returns false when singular.
 * @internal
 */
export function solveInPlace(m: Float64Array, b: Float64Array, k: number): boolean {
  for (let c = 0; c < k; c++) {
    let p = c;
    for (let r = c + 1; r < k; r++) if (Math.abs(m[r * k + c]!) > Math.abs(m[p * k + c]!)) p = r;
    const pivot = m[p * k + c]!;
    if (!(Math.abs(pivot) > 1e-300)) return false;
    if (p !== c) {
      for (let j = 0; j < k; j++) { const t = m[c * k + j]!; m[c * k + j] = m[p * k + j]!; m[p * k + j] = t; }
      const t = b[c]!; b[c] = b[p]!; b[p] = t;
    }
    for (let r = c + 1; r < k; r++) {
      const f = m[r * k + c]! / pivot;
      if (f === 0) continue;
      for (let j = c; j < k; j++) m[r * k + j] = m[r * k + j]! - f * m[c * k + j]!;
      b[r] = b[r]! - f * b[c]!;
    }
  }
  for (let r = k - 1; r >= 0; r--) {
    let s = b[r]!;
    for (let j = r + 1; j < k; j++) s -= m[r * k + j]! * b[j]!;
    b[r] = s / m[r * k + r]!;
  }
  return true;
}
