import { RegimeError } from './regime-error.js';

/**
 * Returns the pre-sample variance that `arch` (Sheppard) uses to start a GARCH recursion ("backcast"): an EWMA of
 * the first min(75, n) squared deviations of `returns` from their sample mean, weights 0.94^i normalised to sum 1.
 * Note: arch demeans with the sample mean (its mean model's starting value), not with the fitted mu. In return
 * units squared.
 * @throws RegimeError `invalid_input` when `returns` is empty or holds a non-finite value in the window.
 */
export function archBackcast(returns: Float64Array): number {
  const n = returns.length;
  if (n < 1) throw new RegimeError('invalid_input', '`returns` must hold >= 1 value, was 0', { parameter: 'returns', value: 0 });
  let mean = 0;
  for (let t = 0; t < n; t++) mean += returns[t]!;
  mean /= n;
  const tau = Math.min(75, n);
  let wSum = 0;
  for (let i = 0; i < tau; i++) wSum += 0.94 ** i;
  let out = 0;
  for (let i = 0; i < tau; i++) {
    const e = returns[i]! - mean;
    out += e * e * (0.94 ** i / wSum);
  }
  if (!Number.isFinite(out)) throw new RegimeError('invalid_input', `\`returns\` must be finite in its first ${tau} values, backcast was ${out}`, { parameter: 'returns', value: out });
  return out;
}
