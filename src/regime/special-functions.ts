/**
 * Log-gamma and digamma for the Student-t density of the regime models (pure, allocation-free).
 * @internal
 */

const LANCZOS_G = 7;
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
  -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];
const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** Returns ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms; relative error about 1e-15). NaN for x <= 0. */
export function logGamma(x: number): number {
  if (!(x > 0)) return NaN;
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const y = x - 1;
  let a = LANCZOS[0]!;
  const t = y + LANCZOS_G + 0.5;
  for (let i = 1; i < LANCZOS.length; i++) a += LANCZOS[i]! / (y + i);
  return HALF_LOG_2PI + (y + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Returns ψ(x) = d/dx ln Γ(x) for x > 0 (recurrence up to x >= 6, then the asymptotic series; absolute error < 1e-13). */
export function digamma(x: number): number {
  if (!(x > 0)) return NaN;
  let result = 0;
  while (x < 6) {
    result -= 1 / x;
    x += 1;
  }
  const f = 1 / (x * x);
  // ln x − 1/(2x) − Σ B_2n / (2n x^{2n})
  const series = f * (1 / 12 - f * (1 / 120 - f * (1 / 252 - f * (1 / 240 - f * (1 / 132 - f * (691 / 32760 - f / 12))))));
  return result + Math.log(x) - 0.5 / x - series;
}

/**
 * Returns the log normalising constant of the unit-variance Student-t density with `nu` > 2 degrees of freedom,
 * ln Γ((ν+1)/2) − ln Γ(ν/2) − ½ ln(π (ν − 2)), so that
 * ln f(r | mean, h) = constant − ½ ln h − (ν+1)/2 · ln(1 + (r − mean)² / ((ν − 2) h))   (arch's `StudentsT`).
 * For ν = +Infinity (Gaussian) returns −½ ln(2π).
 */
export function studentTLogConstant(nu: number): number {
  if (nu === Infinity) return -HALF_LOG_2PI;
  return logGamma((nu + 1) / 2) - logGamma(nu / 2) - 0.5 * Math.log(Math.PI * (nu - 2));
}

/** Returns d/dν of {@link studentTLogConstant}: ½ ψ((ν+1)/2) − ½ ψ(ν/2) − 1 / (2 (ν − 2)). */
export function studentTLogConstantDerivative(nu: number): number {
  return 0.5 * digamma((nu + 1) / 2) - 0.5 * digamma(nu / 2) - 0.5 / (nu - 2);
}
