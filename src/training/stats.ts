/**
 * Statistics of model validation as pure functions over typed arrays: ranks and Spearman correlation, Student-t and
 * normal distribution functions, exact binomial tails, sample moments, and the Deflated Sharpe Ratio.
 * Accuracy: `normalCdf` ~1e-15 absolute (West 2005), `normalQuantile` ~1e-15 relative after one Halley step
 * (Acklam), `studentTTwoSided` ~1e-12 (Lentz continued fraction of the regularized incomplete beta).
 */
import { TrainingError } from './training-error.js';

/** The Euler–Mascheroni constant γ (used by the expected maximum of N Gaussian Sharpe ratios). */
export const EULER_MASCHERONI = 0.5772156649015329;

/**
 * Returns the ranks (1-based) of `values`, ties sharing the average of their ranks. NaN must be filtered out first.
 * @example rankAverage(Float64Array.of(10, 30, 20, 20)); // [1, 4, 2.5, 2.5]
 */
export function rankAverage(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => values[a]! - values[b]! || a - b);
  const ranks = new Float64Array(n);
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && values[order[j + 1]!]! === values[order[i]!]!) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]!] = rank;
    i = j + 1;
  }
  return ranks;
}

/** Returns the Pearson correlation of two equal-length arrays (0 when either is constant). */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i]!;
    my += y[i]!;
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i]! - mx;
    const dy = y[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : 0;
}

/** Result of {@link spearmanIc}. */
export interface InformationCoefficient {
  /** Spearman rank correlation of prediction vs realised forward return, in [-1, 1]. */
  readonly ic: number;
  /** Two-sided p-value of H0 "ic = 0" by the t-approximation with `effectiveCount` observations. */
  readonly pValue: number;
  /** Pairs with both values finite. */
  readonly count: number;
  /** `floor(count / overlap)`: the observation count of the test (overlapping h-bar labels are not independent). */
  readonly effectiveCount: number;
}

/**
 * Returns the Spearman IC of `prediction` vs `realized` over pairs where both are finite, and its two-sided p-value by
 * the t-approximation `t = ic · sqrt((m - 2) / (1 - ic²))`, Student t with `m - 2` degrees of freedom, where
 * `m = floor(count / overlap)`: forward returns over `overlap` bars overlap, so only about `count / overlap` of them
 * are independent (pass 1 for non-overlapping labels). NaN ic and p = 1 when `m < 3`.
 * @example spearmanIc(pred, fwd, 6); // { ic: 0.04, pValue: 0.21, count: 960, effectiveCount: 160 }
 */
export function spearmanIc(prediction: ArrayLike<number>, realized: ArrayLike<number>, overlap = 1): InformationCoefficient {
  const xs: number[] = [];
  const ys: number[] = [];
  const n = Math.min(prediction.length, realized.length);
  for (let i = 0; i < n; i++) {
    const p = prediction[i]!;
    const r = realized[i]!;
    if (Number.isFinite(p) && Number.isFinite(r)) {
      xs.push(p);
      ys.push(r);
    }
  }
  const count = xs.length;
  const effectiveCount = Math.floor(count / Math.max(1, overlap));
  if (count < 3) return { ic: NaN, pValue: 1, count, effectiveCount };
  const ic = pearson(rankAverage(xs), rankAverage(ys));
  if (effectiveCount < 3) return { ic, pValue: 1, count, effectiveCount };
  const df = effectiveCount - 2;
  const t = Math.abs(ic) >= 1 ? Infinity : ic * Math.sqrt(df / (1 - ic * ic));
  return { ic, pValue: studentTTwoSided(t, df), count, effectiveCount };
}

/** Result of {@link spearmanIcNeweyWest}. */
export interface NeweyWestInformationCoefficient {
  /** Spearman IC = slope of rank(realized) on rank(prediction) (equal when neither has ties). */
  readonly ic: number;
  /** Newey-West (HAC, Bartlett) standard error of that slope. */
  readonly standardError: number;
  /** ic / standardError. */
  readonly z: number;
  /** Two-sided normal p-value of z. */
  readonly pValue: number;
  readonly count: number;
  readonly lags: number;
}

/**
 * Returns the Spearman IC with a Newey-West (1987) standard error, for overlapping labels (autocorrelated errors):
 * OLS of rank(realized) on a constant and rank(prediction) over the pairs where both are finite, slope variance
 * Σ_{l=-L..L} w_l Σ_t d_t u_t d_{t-l} u_{t-l} / (Σ d_t²)², d = demeaned rank(prediction), u = OLS residual, Bartlett
 * weights w_l = 1 − |l| / (L + 1), no small-sample correction, normal p-value — statsmodels'
 * `OLS(...).fit(cov_type='HAC', cov_kwds={'maxlags': L, 'use_correction': False}, use_t=False)`. Use L >= the label
 * horizon − 1 (e.g. 5 for 6-bar forward returns). NaN ic and p = 1 with fewer than 3 pairs.
 * @throws TrainingError `invalid_argument` when `lags` is not an integer >= 0.
 * @example spearmanIcNeweyWest(pred, fwd6, 5); // { ic: -0.045, standardError: 0.030, z: -1.50, pValue: 0.13, ... }
 */
export function spearmanIcNeweyWest(prediction: ArrayLike<number>, realized: ArrayLike<number>, lags: number): NeweyWestInformationCoefficient {
  if (!(Number.isInteger(lags) && lags >= 0)) throw new TrainingError('invalid_argument', `\`lags\` must be an integer >= 0, was ${lags}`, { lags });
  const xs: number[] = [], ys: number[] = [];
  const n0 = Math.min(prediction.length, realized.length);
  for (let i = 0; i < n0; i++) {
    const p = prediction[i]!, r = realized[i]!;
    if (Number.isFinite(p) && Number.isFinite(r)) { xs.push(p); ys.push(r); }
  }
  const n = xs.length;
  if (n < 3) return { ic: NaN, standardError: NaN, z: NaN, pValue: 1, count: n, lags };
  const rx = rankAverage(xs), ry = rankAverage(ys);
  let mx = 0, my = 0;
  for (let t = 0; t < n; t++) { mx += rx[t]!; my += ry[t]!; }
  mx /= n; my /= n;
  let sxx = 0, sxy = 0;
  for (let t = 0; t < n; t++) { const d = rx[t]! - mx; sxx += d * d; sxy += d * (ry[t]! - my); }
  const slope = sxy / sxx;
  const score = new Float64Array(n); // d_t u_t
  for (let t = 0; t < n; t++) { const d = rx[t]! - mx; score[t] = d * (ry[t]! - my - slope * d); }
  let s = 0;
  for (let t = 0; t < n; t++) s += score[t]! * score[t]!;
  for (let l = 1; l <= Math.min(lags, n - 1); l++) {
    let acc = 0;
    for (let t = l; t < n; t++) acc += score[t]! * score[t - l]!;
    s += 2 * (1 - l / (lags + 1)) * acc;
  }
  const standardError = Math.sqrt(Math.max(s, 0)) / sxx;
  const z = slope / standardError;
  return { ic: slope, standardError, z, pValue: 2 * normalCdf(-Math.abs(z)), count: n, lags };
}

/** Returns the fraction of pairs (both finite and non-zero) whose signs agree; NaN when there is none. */
export function hitRate(prediction: ArrayLike<number>, realized: ArrayLike<number>): number {
  let hits = 0;
  let count = 0;
  const n = Math.min(prediction.length, realized.length);
  for (let i = 0; i < n; i++) {
    const p = prediction[i]!;
    const r = realized[i]!;
    if (!Number.isFinite(p) || !Number.isFinite(r) || p === 0 || r === 0) continue;
    count++;
    if (p > 0 === r > 0) hits++;
  }
  return count > 0 ? hits / count : NaN;
}

/** Returns ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms; ~1e-15 relative). */
export function logGamma(x: number): number {
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const z = x - 1;
  let a = c[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the regularized incomplete beta (modified Lentz). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 10_000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return h;
}

/** Returns the regularized incomplete beta I_x(a, b) for a, b > 0 and x in [0, 1]. */
export function regularizedBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2) ? (front * betaContinuedFraction(a, b, x)) / a : 1 - (front * betaContinuedFraction(b, a, 1 - x)) / b;
}

/** Returns the two-sided p-value P(|T| >= |t|) of Student's t with `df` > 0 degrees of freedom. */
export function studentTTwoSided(t: number, df: number): number {
  if (!Number.isFinite(t)) return Number.isNaN(t) ? 1 : 0;
  return regularizedBeta(df / (df + t * t), df / 2, 0.5);
}

/** Returns the standard normal CDF Φ(x) (West 2005, double precision). */
export function normalCdf(x: number): number {
  const z = Math.abs(x);
  let c: number;
  if (z > 37) {
    c = 0;
  } else {
    const e = Math.exp((-z * z) / 2);
    if (z < 7.07106781186547) {
      let b = 3.52624965998911e-2 * z + 0.700383064443688;
      b = b * z + 6.37396220353165;
      b = b * z + 33.912866078383;
      b = b * z + 112.079291497871;
      b = b * z + 221.213596169931;
      b = b * z + 220.206867912376;
      c = e * b;
      b = 8.83883476483184e-2 * z + 1.75566716318264;
      b = b * z + 16.064177579207;
      b = b * z + 86.7807322029461;
      b = b * z + 296.564248779674;
      b = b * z + 637.333633378831;
      b = b * z + 793.826512519948;
      b = b * z + 440.413735824752;
      c = c / b;
    } else {
      let b = z + 0.65;
      b = z + 4 / b;
      b = z + 3 / b;
      b = z + 2 / b;
      b = z + 1 / b;
      c = e / b / 2.506628274631;
    }
  }
  return x > 0 ? 1 - c : c;
}

/**
 * Returns Φ⁻¹(p), the standard normal quantile, for p in (0, 1) (Acklam's rational approximation refined by one
 * Halley step).
 * @throws TrainingError `invalid_argument` when p is not in (0, 1).
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new TrainingError('invalid_argument', `\`p\` must be in (0, 1), was ${p}`, { p });
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  let x: number;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    x = (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  } else if (p <= 1 - low) {
    const q = p - 0.5;
    const r = q * q;
    x = ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
  } else {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    x = -(((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  const e = normalCdf(x) - p;
  const u = e * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2);
  return x - u / (1 + (x * u) / 2);
}

/** Returns P(lo <= X <= hi) for X ~ Binomial(n, p), each term exact in log space. */
function binomialRange(lo: number, hi: number, n: number, p: number): number {
  const lp = Math.log(p);
  const lq = Math.log(1 - p);
  const base = logGamma(n + 1);
  let sum = 0;
  for (let i = Math.max(0, lo); i <= Math.min(n, hi); i++) sum += Math.exp(base - logGamma(i + 1) - logGamma(n - i + 1) + i * lp + (n - i) * lq);
  return Math.min(1, sum);
}

/** Returns P(X >= k) for X ~ Binomial(n, p). */
export function binomialUpperTail(k: number, n: number, p = 0.5): number {
  return k <= 0 ? 1 : k > n ? 0 : binomialRange(k, n, n, p);
}

/** Returns P(X <= k) for X ~ Binomial(n, p). */
export function binomialLowerTail(k: number, n: number, p = 0.5): number {
  return k < 0 ? 0 : k >= n ? 1 : binomialRange(0, k, n, p);
}

/** Sample moments of a return series. */
export interface ReturnMoments {
  readonly count: number;
  readonly mean: number;
  /** Sample standard deviation (divisor n - 1). */
  readonly std: number;
  /** Per-period Sharpe ratio mean / std (risk-free 0); 0 when std is 0. */
  readonly sharpe: number;
  /** Skewness γ3 = m3 / m2^1.5 (population moments). */
  readonly skewness: number;
  /** Kurtosis γ4 = m4 / m2² (population moments, NOT excess: 3 for a normal). */
  readonly kurtosis: number;
}

/** Returns the moments of `returns` (finite values only). */
export function returnMoments(returns: ArrayLike<number>): ReturnMoments {
  let n = 0;
  let mean = 0;
  for (let i = 0; i < returns.length; i++) {
    if (!Number.isFinite(returns[i]!)) continue;
    n++;
    mean += returns[i]!;
  }
  if (n === 0) return { count: 0, mean: NaN, std: NaN, sharpe: NaN, skewness: NaN, kurtosis: NaN };
  mean /= n;
  let m2 = 0;
  let m3 = 0;
  let m4 = 0;
  for (let i = 0; i < returns.length; i++) {
    const r = returns[i]!;
    if (!Number.isFinite(r)) continue;
    const d = r - mean;
    m2 += d * d;
    m3 += d * d * d;
    m4 += d * d * d * d;
  }
  const std = n > 1 ? Math.sqrt(m2 / (n - 1)) : 0;
  m2 /= n;
  m3 /= n;
  m4 /= n;
  return {
    count: n,
    mean,
    std,
    sharpe: std > 0 ? mean / std : 0,
    skewness: m2 > 0 ? m3 / Math.pow(m2, 1.5) : 0,
    kurtosis: m2 > 0 ? m4 / (m2 * m2) : 3,
  };
}

/**
 * Returns the expected maximum Sharpe ratio of `trials` independent strategies with true Sharpe 0 whose estimated
 * Sharpes have variance `sharpeVariance` (Bailey & López de Prado 2014, eq. of SR₀):
 * `SR₀ = sqrt(V) · ((1 - γ) Φ⁻¹(1 - 1/N) + γ Φ⁻¹(1 - 1/(N e)))`, γ = Euler–Mascheroni. 0 for N = 1.
 */
export function expectedMaxSharpe(sharpeVariance: number, trials: number): number {
  if (trials <= 1) return 0;
  const g = EULER_MASCHERONI;
  return Math.sqrt(sharpeVariance) * ((1 - g) * normalQuantile(1 - 1 / trials) + g * normalQuantile(1 - 1 / (trials * Math.E)));
}

/** Inputs of {@link deflatedSharpeRatio}; every Sharpe ratio is per period (NOT annualised). */
export interface DeflatedSharpeInput {
  /** The selected strategy's estimated per-period Sharpe ratio SR̂. */
  readonly sharpe: number;
  /** Number of returns T the Sharpe was estimated from. */
  readonly observations: number;
  /** Skewness γ3 of those returns. */
  readonly skewness: number;
  /** Kurtosis γ4 (non-excess) of those returns. */
  readonly kurtosis: number;
  /** Number of trials N (configurations tried). */
  readonly trials: number;
  /** Variance V[SR̂_n] of the trials' per-period Sharpe ratios. */
  readonly sharpeVariance: number;
}

/** Result of {@link deflatedSharpeRatio}. */
export interface DeflatedSharpe {
  /** DSR = PSR(SR₀): the probability that the true Sharpe exceeds SR₀, in [0, 1]. */
  readonly dsr: number;
  /** The benchmark SR₀ = expected maximum Sharpe of N zero-skill trials, per period. */
  readonly benchmarkSharpe: number;
}

/**
 * Returns the Deflated Sharpe Ratio (Bailey & López de Prado 2014, "The Deflated Sharpe Ratio: Correcting for
 * Selection Bias, Backtest Overfitting and Non-Normality"):
 * `DSR = Φ( (SR̂ - SR₀) · sqrt(T - 1) / sqrt(1 - γ3 · SR̂ + (γ4 - 1) / 4 · SR̂²) )` with SR₀ from {@link expectedMaxSharpe}.
 * @throws TrainingError `invalid_argument` for T < 2, N < 1 or a negative variance.
 * @example
 * deflatedSharpeRatio({ sharpe: 0.05, observations: 2000, skewness: 0, kurtosis: 3, trials: 12, sharpeVariance: 0.0004 });
 */
export function deflatedSharpeRatio(input: DeflatedSharpeInput): DeflatedSharpe {
  const { sharpe, observations, skewness, kurtosis, trials, sharpeVariance } = input;
  if (!(observations >= 2)) throw new TrainingError('invalid_argument', `\`observations\` must be >= 2, was ${observations}`, { observations });
  if (!(Number.isInteger(trials) && trials >= 1)) throw new TrainingError('invalid_argument', `\`trials\` must be an integer >= 1, was ${trials}`, { trials });
  if (!(sharpeVariance >= 0)) throw new TrainingError('invalid_argument', `\`sharpeVariance\` must be >= 0, was ${sharpeVariance}`, { sharpeVariance });
  const benchmarkSharpe = expectedMaxSharpe(sharpeVariance, trials);
  const denominator = Math.sqrt(Math.max(1e-12, 1 - skewness * sharpe + ((kurtosis - 1) / 4) * sharpe * sharpe));
  return { dsr: normalCdf(((sharpe - benchmarkSharpe) * Math.sqrt(observations - 1)) / denominator), benchmarkSharpe };
}

/** Returns the sample variance (divisor n - 1) of the finite values; 0 with fewer than 2. */
export function sampleVariance(values: ArrayLike<number>): number {
  const m = returnMoments(values);
  return m.count > 1 ? m.std * m.std : 0;
}
