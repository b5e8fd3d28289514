/**
 * Negative mean log-likelihood of the MS-GARCH model over unconstrained parameters, with its exact gradient by a
 * hand-written reverse (adjoint) pass through the Hamilton filter and the K GARCH recursions. Internal to the fit.
 *
 * Unconstrained vector theta, per state k a block [mu_k, a_k, c1_k, c2_k] ('garch') or [mu_k, a_k] ('constant'),
 * then for each row i of the transition matrix the K − 1 logits d_ij (j ≠ i):
 *   omega_k = OMEGA_FLOOR + exp(a_k)
 *   (alpha_k, beta_k) = MAX_PERSISTENCE · softmax(c1_k, c2_k, 0)[0..1]        so alpha, beta > 0 and alpha + beta < 1 − 1e-6
 *   P_ij = softmax_j(d_ij) with d_ii = 0                                         rows on the simplex
 * The initial distribution is the ergodic distribution of P (its derivative is included in the gradient).
 * @internal
 */
import { solveInPlace } from './ms-garch-model.js';

/** 'garch': each state has its own GARCH(1,1); 'constant': alpha = beta = 0 (Markov-switching Gaussian). */
export type VarianceMode = 'garch' | 'constant';

/** Lower bound on omega inside the fit (in the units the objective sees; the fit standardises returns to unit variance). */
export const OMEGA_FLOOR = 1e-6;

/** Upper bound on alpha + beta inside the fit (keeps unconditional variances finite in floating point). */
export const MAX_PERSISTENCE = 1 - 1e-6;

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** Likelihood workspace for one return series: buffers are allocated once and reused by every evaluation. */
export class MsGarchObjective {
  readonly states: number;
  readonly mode: VarianceMode;
  readonly block: number;
  /** Number of unconstrained parameters. */
  readonly size: number;
  readonly bars: number;
  readonly mean: Float64Array;
  readonly omega: Float64Array;
  readonly alpha: Float64Array;
  readonly beta: Float64Array;
  readonly transition: Float64Array;
  readonly ergodic: Float64Array;
  private readonly data: Float64Array;
  private readonly initialVariance: number;
  private readonly hs: Float64Array; // h_{t,k}
  private readonly invHs: Float64Array; // 1 / h_{t,k}
  private readonly fs: Float64Array; // filtered_{t,k}
  private readonly qs: Float64Array; // f_{t,k} / c_t
  private readonly predicted: Float64Array;
  private readonly scratch: Float64Array;
  private readonly barFiltered: Float64Array;
  private readonly barFilteredNext: Float64Array;
  private readonly carry: Float64Array;
  private readonly barMean: Float64Array;
  private readonly barOmega: Float64Array;
  private readonly barAlpha: Float64Array;
  private readonly barBeta: Float64Array;
  private readonly barTransition: Float64Array;
  private readonly work: Float64Array;
  private readonly rhs: Float64Array;
  /** Number of evaluate() calls. */
  evaluations = 0;

  constructor(data: Float64Array, states: number, mode: VarianceMode, initialVariance: number) {
    const k = states;
    this.states = k;
    this.mode = mode;
    this.block = mode === 'garch' ? 4 : 2;
    this.size = k * this.block + k * (k - 1);
    this.bars = data.length;
    this.data = data;
    this.initialVariance = initialVariance;
    this.mean = new Float64Array(k);
    this.omega = new Float64Array(k);
    this.alpha = new Float64Array(k);
    this.beta = new Float64Array(k);
    this.transition = new Float64Array(k * k);
    this.ergodic = new Float64Array(k);
    this.hs = new Float64Array(data.length * k);
    this.invHs = new Float64Array(data.length * k);
    this.fs = new Float64Array(data.length * k);
    this.qs = new Float64Array(data.length * k);
    this.predicted = new Float64Array(k);
    this.scratch = new Float64Array(k);
    this.barFiltered = new Float64Array(k);
    this.barFilteredNext = new Float64Array(k);
    this.carry = new Float64Array(k);
    this.barMean = new Float64Array(k);
    this.barOmega = new Float64Array(k);
    this.barAlpha = new Float64Array(k);
    this.barBeta = new Float64Array(k);
    this.barTransition = new Float64Array(k * k);
    this.work = new Float64Array(k * k);
    this.rhs = new Float64Array(k);
  }

  /** Index of logit d_ij (i ≠ j) in theta. */
  logitIndex(i: number, j: number): number {
    const k = this.states;
    return k * this.block + i * (k - 1) + (j < i ? j : j - 1);
  }

  /** Writes the constrained parameters of `theta` into mean/omega/alpha/beta/transition/ergodic. Returns false if not finite. */
  decode(theta: Float64Array): boolean {
    const k = this.states, b = this.block;
    for (let s = 0; s < k; s++) {
      this.mean[s] = theta[s * b]!;
      this.omega[s] = OMEGA_FLOOR + Math.exp(theta[s * b + 1]!);
      if (b === 4) {
        const c1 = theta[s * b + 2]!, c2 = theta[s * b + 3]!;
        const m = Math.max(0, c1, c2);
        const e1 = Math.exp(c1 - m), e2 = Math.exp(c2 - m), e0 = Math.exp(-m);
        const d = e0 + e1 + e2;
        this.alpha[s] = (MAX_PERSISTENCE * e1) / d;
        this.beta[s] = (MAX_PERSISTENCE * e2) / d;
      } else {
        this.alpha[s] = 0;
        this.beta[s] = 0;
      }
    }
    for (let i = 0; i < k; i++) {
      let m = 0;
      for (let j = 0; j < k; j++) if (j !== i) m = Math.max(m, theta[this.logitIndex(i, j)]!);
      let sum = 0;
      for (let j = 0; j < k; j++) {
        const e = Math.exp((j === i ? 0 : theta[this.logitIndex(i, j)]!) - m);
        this.transition[i * k + j] = e;
        sum += e;
      }
      for (let j = 0; j < k; j++) this.transition[i * k + j] = this.transition[i * k + j]! / sum;
    }
    // ergodic: solve (I − P' + 1 1') pi = 1
    const w = this.work;
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) w[i * k + j] = (i === j ? 1 : 0) - this.transition[j * k + i]! + 1;
    this.ergodic.fill(1);
    if (!solveInPlace(w, this.ergodic, k)) return false;
    for (let s = 0; s < k; s++) {
      if (!(Number.isFinite(this.mean[s]!) && this.omega[s]! < Infinity && this.ergodic[s]! >= -1e-12)) return false;
      if (this.ergodic[s]! < 0) this.ergodic[s] = 0;
    }
    return true;
  }

  /**
   * Writes theta for constrained parameters (inverse of {@link decode}); alpha, beta > 0 and transition entries > 0
   * are required (callers clamp).
   */
  encode(mean: ArrayLike<number>, omega: ArrayLike<number>, alpha: ArrayLike<number>, beta: ArrayLike<number>, transition: ArrayLike<number>, theta: Float64Array): void {
    const k = this.states, b = this.block;
    for (let s = 0; s < k; s++) {
      theta[s * b] = mean[s]!;
      theta[s * b + 1] = Math.log(Math.max(omega[s]! - OMEGA_FLOOR, 1e-12));
      if (b === 4) {
        const a = alpha[s]! / MAX_PERSISTENCE, be = beta[s]! / MAX_PERSISTENCE;
        const rest = 1 - a - be;
        theta[s * b + 2] = Math.log(a / rest);
        theta[s * b + 3] = Math.log(be / rest);
      }
    }
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) if (j !== i) theta[this.logitIndex(i, j)] = Math.log(transition[i * k + j]! / transition[i * k + i]!);
  }

  /**
   * Returns −(1/T) · log-likelihood at `theta` (Infinity where undefined) and, when `gradient` is given, writes its
   * exact gradient with respect to theta.
   */
  evaluate(theta: Float64Array, gradient: Float64Array | null): number {
    this.evaluations++;
    if (!this.decode(theta)) return Infinity;
    const k = this.states, n = this.bars, z = this.data, h0 = this.initialVariance;
    const mean = this.mean, omega = this.omega, alpha = this.alpha, beta = this.beta, P = this.transition;
    const hs = this.hs, invHs = this.invHs, fs = this.fs, qs = this.qs, pred = this.predicted, q = this.scratch;
    let logL = 0;
    for (let t = 0; t < n; t++) {
      const base = t * k;
      const r = z[t]!;
      if (t === 0) {
        for (let j = 0; j < k; j++) pred[j] = this.ergodic[j]!;
      } else {
        const prev = base - k;
        for (let j = 0; j < k; j++) {
          let p = 0;
          for (let i = 0; i < k; i++) p += fs[prev + i]! * P[i * k + j]!;
          pred[j] = p;
        }
      }
      let qMin = Infinity;
      for (let s = 0; s < k; s++) {
        let h: number;
        if (t === 0) h = omega[s]! + (alpha[s]! + beta[s]!) * h0;
        else {
          const e = z[t - 1]! - mean[s]!;
          h = omega[s]! + alpha[s]! * e * e + beta[s]! * hs[base - k + s]!;
        }
        hs[base + s] = h;
        const invH = 1 / h;
        invHs[base + s] = invH;
        const d = r - mean[s]!;
        const qq = 0.5 * d * d * invH;
        q[s] = qq;
        if (pred[s]! > 0 && qq < qMin) qMin = qq;
      }
      let sum = 0;
      for (let s = 0; s < k; s++) {
        const f = Math.exp(qMin - q[s]!) * Math.sqrt(invHs[base + s]!);
        qs[base + s] = f;
        const g = pred[s]! * f;
        fs[base + s] = g;
        sum += g;
      }
      if (!(sum > 0 && sum < Infinity)) return Infinity;
      const inv = 1 / sum;
      for (let s = 0; s < k; s++) {
        fs[base + s] = fs[base + s]! * inv;
        qs[base + s] = qs[base + s]! * inv;
      }
      logL += Math.log(sum) - qMin;
    }
    logL -= n * HALF_LOG_2PI;
    if (!Number.isFinite(logL)) return Infinity;
    const value = -logL / n;
    if (gradient === null) return value;

    // ---- reverse pass: adjoints of log L ----
    let barF = this.barFiltered, barFNext = this.barFilteredNext;
    const carry = this.carry;
    const barMu = this.barMean, barOm = this.barOmega, barAl = this.barAlpha, barBe = this.barBeta, barP = this.barTransition;
    barF.fill(0); carry.fill(0); barMu.fill(0); barOm.fill(0); barAl.fill(0); barBe.fill(0); barP.fill(0);
    const barPi = this.rhs;
    for (let t = n - 1; t >= 0; t--) {
      const base = t * k;
      const r = z[t]!;
      let dot = 0;
      for (let s = 0; s < k; s++) dot += barF[s]! * fs[base + s]!;
      for (let s = 0; s < k; s++) {
        const w = 1 + barF[s]! - dot;
        const barLog = w * fs[base + s]!; // adjoint of log f_{t,s}
        pred[s] = w * qs[base + s]!; // adjoint of predicted_{t,s}
        const d = r - mean[s]!;
        const invH = invHs[base + s]!;
        barMu[s] = barMu[s]! + barLog * d * invH;
        const barH = barLog * 0.5 * invH * (d * d * invH - 1) + beta[s]! * carry[s]!;
        carry[s] = barH;
        barOm[s] = barOm[s]! + barH;
        if (t > 0) {
          const e = z[t - 1]! - mean[s]!;
          barAl[s] = barAl[s]! + barH * e * e;
          barBe[s] = barBe[s]! + barH * hs[base - k + s]!;
          barMu[s] = barMu[s]! - barH * alpha[s]! * 2 * e;
        } else {
          barAl[s] = barAl[s]! + barH * h0;
          barBe[s] = barBe[s]! + barH * h0;
        }
      }
      if (t > 0) {
        const prev = base - k;
        for (let i = 0; i < k; i++) {
          const fi = fs[prev + i]!;
          let acc = 0;
          for (let j = 0; j < k; j++) {
            const pj = pred[j]!;
            acc += P[i * k + j]! * pj;
            barP[i * k + j] = barP[i * k + j]! + fi * pj;
          }
          barFNext[i] = acc;
        }
        const swap = barF;
        barF = barFNext;
        barFNext = swap;
      } else {
        for (let s = 0; s < k; s++) barPi[s] = pred[s]!;
      }
    }
    // ergodic pi solves pi' A = 1' with A = I − P + 1 1': dL/dP_ij += pi_i (A^{-1} barPi)_j
    if (k > 1) {
      const w = this.work;
      for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) w[i * k + j] = (i === j ? 1 : 0) - P[i * k + j]! + 1;
      if (!solveInPlace(w, barPi, k)) return Infinity;
      for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) barP[i * k + j] = barP[i * k + j]! + this.ergodic[i]! * barPi[j]!;
    }
    // ---- chain rule to theta; gradient of value = −logL / n ----
    const scale = -1 / n;
    const b = this.block;
    for (let s = 0; s < k; s++) {
      gradient[s * b] = scale * barMu[s]!;
      gradient[s * b + 1] = scale * barOm[s]! * (omega[s]! - OMEGA_FLOOR);
      if (b === 4) {
        // alpha = M a', beta = M b' with (a', b') the softmax shares
        const a = alpha[s]! / MAX_PERSISTENCE, be = beta[s]! / MAX_PERSISTENCE;
        gradient[s * b + 2] = scale * MAX_PERSISTENCE * (barAl[s]! * a * (1 - a) - barBe[s]! * a * be);
        gradient[s * b + 3] = scale * MAX_PERSISTENCE * (barBe[s]! * be * (1 - be) - barAl[s]! * a * be);
      }
    }
    for (let i = 0; i < k; i++) {
      let avg = 0;
      for (let l = 0; l < k; l++) avg += P[i * k + l]! * barP[i * k + l]!;
      for (let j = 0; j < k; j++) if (j !== i) gradient[this.logitIndex(i, j)] = scale * P[i * k + j]! * (barP[i * k + j]! - avg);
    }
    return value;
  }
}
