/**
 * Negative mean log-likelihood of the MS-GARCH model over unconstrained parameters, with its exact gradient by a
 * hand-written reverse (adjoint) pass through the Hamilton filter and the K GARCH recursions. Internal to the fit.
 *
 * Unconstrained vector theta, per state k a block [mu_k, a_k, (c1_k, c2_k if 'garch'), (g_k if Student-t)], then for
 * each row i of the transition matrix the K − 1 logits d_ij (j ≠ i). With the bounds of {@link FitBounds}:
 *   v_k = vMin + (vMax − vMin) · sigmoid(a_k)                       unconditional variance, inside [vMin, vMax]
 *   (alpha_k, beta_k) = maxPersistence · softmax(c1_k, c2_k, 0)[0..1]   so alpha, beta > 0 and alpha + beta < maxPersistence
 *   omega_k = v_k · (1 − alpha_k − beta_k)                           (variance targeting)
 *   nu_k = NU_MIN + (NU_MAX − NU_MIN) · sigmoid(g_k)                 Student-t degrees of freedom
 *   P_i· = stayFloor · e_i + (1 − stayFloor) · softmax_j(d_ij), d_ii = 0   so P_ii >= stayFloor, rows on the simplex
 * The initial distribution is the ergodic distribution of P (its derivative is included in the gradient).
 * @internal
 */
import { solveInPlace } from './ms-garch-model.js';
import { studentTLogConstant, studentTLogConstantDerivative } from './special-functions.js';

/** 'garch': each state has its own GARCH(1,1); 'constant': alpha = beta = 0 (Markov-switching Gaussian or t). */
export type VarianceMode = 'garch' | 'constant';

/** Innovation density of every state: 'normal' (Gaussian) or 't' (unit-variance Student-t, nu per state estimated). */
export type Innovations = 'normal' | 't';

/** Lower bound of nu (as arch's StudentsT: 2.05). */
export const NU_MIN = 2.05;
/** Upper bound of nu (as arch's StudentsT: 500; a t with 500 degrees of freedom is Gaussian for these purposes). */
export const NU_MAX = 500;

/** Bounds of the fit, in the standardised units the objective sees (the sample variance is 1). */
export interface FitBounds {
  /** Lower bound of each state's unconditional variance. */
  readonly varianceMin: number;
  /** Upper bound of each state's unconditional variance. */
  readonly varianceMax: number;
  /** Upper bound of alpha + beta. */
  readonly maxPersistence: number;
  /** Lower bound of each stay probability P_ii (0 = none). */
  readonly stayFloor: number;
}

const sigmoid = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
const logit = (p: number): number => Math.log(p / (1 - p));
const clampOpen = (p: number): number => Math.min(1 - 1e-9, Math.max(1e-9, p));

/** Likelihood workspace for one return series: buffers are allocated once and reused by every evaluation. */
export class MsGarchObjective {
  readonly states: number;
  readonly mode: VarianceMode;
  readonly innovations: Innovations;
  readonly bounds: FitBounds;
  readonly block: number;
  /** Number of unconstrained parameters. */
  readonly size: number;
  readonly bars: number;
  readonly mean: Float64Array;
  readonly omega: Float64Array;
  readonly alpha: Float64Array;
  readonly beta: Float64Array;
  readonly nu: Float64Array;
  /** Unconditional variance v_k of each state. */
  readonly variance: Float64Array;
  readonly transition: Float64Array;
  readonly ergodic: Float64Array;
  private readonly softmax: Float64Array; // S in P = f I + (1 − f) S
  private readonly logConstant: Float64Array;
  private readonly logConstantDerivative: Float64Array;
  private readonly data: Float64Array;
  private readonly initialVariance: number;
  private readonly hs: Float64Array; // h_{t,k}
  private readonly invHs: Float64Array; // 1 / h_{t,k}
  private readonly fs: Float64Array; // filtered_{t,k}
  private readonly qs: Float64Array; // f_{t,k} / c_t
  private readonly logTerms: Float64Array | null; // ln(1 + u_{t,k}) of Student-t states (reused by the reverse pass)
  private readonly predicted: Float64Array;
  private readonly scratch: Float64Array;
  private readonly barFiltered: Float64Array;
  private readonly barFilteredNext: Float64Array;
  private readonly carry: Float64Array;
  private readonly barMean: Float64Array;
  private readonly barOmega: Float64Array;
  private readonly barAlpha: Float64Array;
  private readonly barBeta: Float64Array;
  private readonly barNu: Float64Array;
  private readonly barTransition: Float64Array;
  private readonly work: Float64Array;
  private readonly rhs: Float64Array;
  /** Number of evaluate() calls. */
  evaluations = 0;

  constructor(data: Float64Array, states: number, mode: VarianceMode, innovations: Innovations, bounds: FitBounds, initialVariance: number) {
    const k = states;
    this.states = k;
    this.mode = mode;
    this.innovations = innovations;
    this.bounds = bounds;
    this.block = 2 + (mode === 'garch' ? 2 : 0) + (innovations === 't' ? 1 : 0);
    this.size = k * this.block + k * (k - 1);
    this.bars = data.length;
    this.data = data;
    this.initialVariance = initialVariance;
    this.mean = new Float64Array(k);
    this.omega = new Float64Array(k);
    this.alpha = new Float64Array(k);
    this.beta = new Float64Array(k);
    this.nu = new Float64Array(k).fill(Infinity);
    this.variance = new Float64Array(k);
    this.transition = new Float64Array(k * k);
    this.softmax = new Float64Array(k * k);
    this.ergodic = new Float64Array(k);
    this.logConstant = new Float64Array(k);
    this.logConstantDerivative = new Float64Array(k);
    this.hs = new Float64Array(data.length * k);
    this.invHs = new Float64Array(data.length * k);
    this.fs = new Float64Array(data.length * k);
    this.qs = new Float64Array(data.length * k);
    this.logTerms = innovations === 't' ? new Float64Array(data.length * k) : null;
    this.predicted = new Float64Array(k);
    this.scratch = new Float64Array(k);
    this.barFiltered = new Float64Array(k);
    this.barFilteredNext = new Float64Array(k);
    this.carry = new Float64Array(k);
    this.barMean = new Float64Array(k);
    this.barOmega = new Float64Array(k);
    this.barAlpha = new Float64Array(k);
    this.barBeta = new Float64Array(k);
    this.barNu = new Float64Array(k);
    this.barTransition = new Float64Array(k * k);
    this.work = new Float64Array(k * k);
    this.rhs = new Float64Array(k);
  }

  /** Index of logit d_ij (i ≠ j) in theta. */
  logitIndex(i: number, j: number): number {
    const k = this.states;
    return k * this.block + i * (k - 1) + (j < i ? j : j - 1);
  }

  /** Index of g_k (the nu parameter of state k) in theta; −1 for Gaussian innovations. */
  nuIndex(s: number): number {
    return this.innovations === 't' ? s * this.block + this.block - 1 : -1;
  }

  /** Writes the constrained parameters of `theta` into mean/omega/alpha/beta/nu/transition/ergodic. Returns false if not finite. */
  decode(theta: Float64Array): boolean {
    const k = this.states, b = this.block, { varianceMin, varianceMax, maxPersistence, stayFloor } = this.bounds;
    for (let s = 0; s < k; s++) {
      this.mean[s] = theta[s * b]!;
      const v = varianceMin + (varianceMax - varianceMin) * sigmoid(theta[s * b + 1]!);
      this.variance[s] = v;
      if (this.mode === 'garch') {
        const c1 = theta[s * b + 2]!, c2 = theta[s * b + 3]!;
        const m = Math.max(0, c1, c2);
        const e1 = Math.exp(c1 - m), e2 = Math.exp(c2 - m), e0 = Math.exp(-m);
        const d = e0 + e1 + e2;
        this.alpha[s] = (maxPersistence * e1) / d;
        this.beta[s] = (maxPersistence * e2) / d;
      } else {
        this.alpha[s] = 0;
        this.beta[s] = 0;
      }
      this.omega[s] = v * (1 - this.alpha[s]! - this.beta[s]!);
      if (this.innovations === 't') {
        const nu = NU_MIN + (NU_MAX - NU_MIN) * sigmoid(theta[this.nuIndex(s)]!);
        this.nu[s] = nu;
        this.logConstant[s] = studentTLogConstant(nu);
        this.logConstantDerivative[s] = studentTLogConstantDerivative(nu);
      } else {
        this.logConstant[s] = studentTLogConstant(Infinity);
      }
    }
    for (let i = 0; i < k; i++) {
      let m = 0;
      for (let j = 0; j < k; j++) if (j !== i) m = Math.max(m, theta[this.logitIndex(i, j)]!);
      let sum = 0;
      for (let j = 0; j < k; j++) {
        const e = Math.exp((j === i ? 0 : theta[this.logitIndex(i, j)]!) - m);
        this.softmax[i * k + j] = e;
        sum += e;
      }
      for (let j = 0; j < k; j++) {
        const sm = this.softmax[i * k + j]! / sum;
        this.softmax[i * k + j] = sm;
        this.transition[i * k + j] = (i === j ? stayFloor : 0) + (1 - stayFloor) * sm;
      }
    }
    // ergodic: solve (I − P' + 1 1') pi = 1
    const w = this.work;
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) w[i * k + j] = (i === j ? 1 : 0) - this.transition[j * k + i]! + 1;
    this.ergodic.fill(1);
    if (!solveInPlace(w, this.ergodic, k)) return false;
    for (let s = 0; s < k; s++) {
      if (!(Number.isFinite(this.mean[s]!) && this.omega[s]! > 0 && this.omega[s]! < Infinity && this.ergodic[s]! >= -1e-12)) return false;
      if (this.ergodic[s]! < 0) this.ergodic[s] = 0;
    }
    return true;
  }

  /**
   * Writes theta for constrained parameters (inverse of {@link decode}); values outside the bounds are clamped just
   * inside them; alpha, beta > 0 are required.
   * @param variance unconditional variance of each state (standardised units)
   */
  encode(mean: ArrayLike<number>, variance: ArrayLike<number>, alpha: ArrayLike<number>, beta: ArrayLike<number>, nu: ArrayLike<number>, transition: ArrayLike<number>, theta: Float64Array): void {
    const k = this.states, b = this.block, { varianceMin, varianceMax, maxPersistence, stayFloor } = this.bounds;
    for (let s = 0; s < k; s++) {
      theta[s * b] = mean[s]!;
      theta[s * b + 1] = logit(clampOpen((variance[s]! - varianceMin) / (varianceMax - varianceMin)));
      if (this.mode === 'garch') {
        let a = alpha[s]! / maxPersistence, be = beta[s]! / maxPersistence;
        if (a + be >= 1 - 1e-6) { const c = (1 - 1e-6) / (a + be); a *= c; be *= c; }
        const rest = 1 - a - be;
        theta[s * b + 2] = Math.log(a / rest);
        theta[s * b + 3] = Math.log(be / rest);
      }
      if (this.innovations === 't') theta[this.nuIndex(s)] = logit(clampOpen((Math.min(nu[s]!, NU_MAX) - NU_MIN) / (NU_MAX - NU_MIN)));
    }
    for (let i = 0; i < k; i++) {
      const sii = Math.max((transition[i * k + i]! - stayFloor) / (1 - stayFloor), 1e-6);
      for (let j = 0; j < k; j++) if (j !== i) theta[this.logitIndex(i, j)] = Math.log(Math.max(transition[i * k + j]! / (1 - stayFloor), 1e-12) / sii);
    }
  }

  /**
   * Returns −(1/T) · log-likelihood at `theta` (Infinity where undefined) and, when `gradient` is given, writes its
   * exact gradient with respect to theta.
   */
  evaluate(theta: Float64Array, gradient: Float64Array | null): number {
    this.evaluations++;
    if (!this.decode(theta)) return Infinity;
    const k = this.states, n = this.bars, z = this.data, h0 = this.initialVariance;
    const mean = this.mean, omega = this.omega, alpha = this.alpha, beta = this.beta, nu = this.nu, lc = this.logConstant, P = this.transition;
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
        const v = nu[s]!;
        let qq: number;
        if (v === Infinity) qq = 0.5 * d * d * invH - lc[s]!;
        else {
          const lt = Math.log1p((d * d * invH) / (v - 2));
          this.logTerms![base + s] = lt;
          qq = 0.5 * (v + 1) * lt - lc[s]!;
        }
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
    if (!Number.isFinite(logL)) return Infinity;
    const value = -logL / n;
    if (gradient === null) return value;

    // ---- reverse pass: adjoints of log L ----
    let barF = this.barFiltered, barFNext = this.barFilteredNext;
    const carry = this.carry, lcd = this.logConstantDerivative;
    const barMu = this.barMean, barOm = this.barOmega, barAl = this.barAlpha, barBe = this.barBeta, barNu = this.barNu, barP = this.barTransition;
    barF.fill(0); carry.fill(0); barMu.fill(0); barOm.fill(0); barAl.fill(0); barBe.fill(0); barNu.fill(0); barP.fill(0);
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
        const v = nu[s]!;
        // weight of the squared residual: 1 (Gaussian) or (ν+1) / (ν − 2 + d²/h) (Student-t)
        let weight = 1;
        if (v !== Infinity) {
          const x = d * d * invH;
          weight = (v + 1) / (v - 2 + x);
          const u = x / (v - 2);
          barNu[s] = barNu[s]! + barLog * (lcd[s]! - 0.5 * this.logTerms![base + s]! + 0.5 * weight * u);
        }
        barMu[s] = barMu[s]! + barLog * weight * d * invH;
        const barH = barLog * 0.5 * invH * (weight * d * d * invH - 1) + beta[s]! * carry[s]!;
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
    const b = this.block, { varianceMin, varianceMax, maxPersistence, stayFloor } = this.bounds;
    for (let s = 0; s < k; s++) {
      const v = this.variance[s]!;
      const persistence = alpha[s]! + beta[s]!;
      gradient[s * b] = scale * barMu[s]!;
      // omega = v (1 − alpha − beta)
      gradient[s * b + 1] = (scale * barOm[s]! * (1 - persistence) * (v - varianceMin) * (varianceMax - v)) / (varianceMax - varianceMin);
      if (this.mode === 'garch') {
        const bAl = barAl[s]! - barOm[s]! * v, bBe = barBe[s]! - barOm[s]! * v;
        // alpha = M a', beta = M b' with (a', b') the softmax shares
        const a = alpha[s]! / maxPersistence, be = beta[s]! / maxPersistence;
        gradient[s * b + 2] = scale * maxPersistence * (bAl * a * (1 - a) - bBe * a * be);
        gradient[s * b + 3] = scale * maxPersistence * (bBe * be * (1 - be) - bAl * a * be);
      }
      if (this.innovations === 't') {
        const nuS = nu[s]!;
        gradient[this.nuIndex(s)] = (scale * barNu[s]! * (nuS - NU_MIN) * (NU_MAX - nuS)) / (NU_MAX - NU_MIN);
      }
    }
    const S = this.softmax;
    for (let i = 0; i < k; i++) {
      let avg = 0;
      for (let l = 0; l < k; l++) avg += S[i * k + l]! * barP[i * k + l]!;
      for (let j = 0; j < k; j++) if (j !== i) gradient[this.logitIndex(i, j)] = scale * (1 - stayFloor) * S[i * k + j]! * (barP[i * k + j]! - avg);
    }
    return value;
  }
}
