import { fitMsGarch, type FitMsGarchOptions } from './fit-ms-garch.js';
import { filterRegimes } from './regime-filter.js';
import type { RegimeLabel } from './regime-labels.js';
import { RegimeError } from './regime-error.js';

/** One rolling fit of {@link labelStability}. */
export interface StabilityWindow {
  /** First and one-past-last return index of the fit window. */
  readonly from: number;
  readonly to: number;
  readonly verdict: 'ok' | 'degenerate' | 'failed';
  /** Reason of a degenerate or failed fit. */
  readonly reason?: string;
  readonly labels?: readonly RegimeLabel[];
}

/** Result of {@link labelStability}. */
export interface LabelStability {
  readonly windows: readonly StabilityWindow[];
  /** Per bar: the label most fits give it (most likely filtered state of each non-degenerate fit), or null when no fit labels it. */
  readonly modalLabel: readonly (RegimeLabel | null)[];
  /** Per bar: share of the non-degenerate fits that give the bar its modal label (NaN when none). */
  readonly agreement: Float64Array;
  /** Mean of `agreement` over the bars. */
  readonly meanAgreement: number;
  /** Share of bars whose label is the same under consecutive non-degenerate fits, per consecutive pair. */
  readonly consecutiveAgreement: Float64Array;
}

/**
 * Returns how stable regime labels are across rolling fit windows: a model is fitted ({@link fitMsGarch}, with
 * `fit` options and `onDegenerate: 'report'`) on returns [s, s + window) for s = 0, step, 2·step, ... while the window
 * fits; every non-degenerate fit filters the whole series (causal filtered probabilities) and labels each bar with its
 * most likely state's label. Per bar the modal label and the share of fits that agree with it; per consecutive pair
 * of fits the share of bars labelled the same. Degenerate or failed fits are listed with their reason and left out.
 * @throws RegimeError `invalid_input` when `window` or `step` is not a positive integer or the window is longer than the series.
 * @example
 * const s = labelStability(logReturns, { window: 2190, step: 540, fit: { seed: 1, states: 2, innovations: 't' } });
 * s.meanAgreement; // e.g. 0.83
 */
export function labelStability(returns: Float64Array, options: { window: number; step: number; fit: FitMsGarchOptions }): LabelStability {
  const { window, step } = options;
  const n = returns.length;
  if (!(Number.isInteger(window) && window >= 1 && window <= n)) throw new RegimeError('invalid_input', `\`window\` must be an integer in [1, ${n}] (returns), was ${window}`, { parameter: 'window', value: window });
  if (!(Number.isInteger(step) && step >= 1)) throw new RegimeError('invalid_input', `\`step\` must be an integer >= 1, was ${step}`, { parameter: 'step', value: step });
  const windows: StabilityWindow[] = [];
  const labelled: (RegimeLabel[] | null)[] = [];
  for (let from = 0; from + window <= n; from += step) {
    const to = from + window;
    try {
      const fit = fitMsGarch(returns.subarray(from, to), { ...options.fit, onDegenerate: 'report' });
      if (fit.verdict !== 'ok') {
        windows.push({ from, to, verdict: 'degenerate', reason: fit.degenerateReasons.map((r) => r.message).join('; '), labels: fit.labels });
        continue;
      }
      const out = filterRegimes(fit.model, returns, { initialVariance: fit.initialVariance });
      const k = fit.model.states;
      const bars: RegimeLabel[] = new Array<RegimeLabel>(n);
      for (let t = 0; t < n; t++) {
        let best = 0;
        for (let s = 1; s < k; s++) if (out.filtered[t * k + s]! > out.filtered[t * k + best]!) best = s;
        bars[t] = fit.labels[best]!;
      }
      labelled.push(bars);
      windows.push({ from, to, verdict: 'ok', labels: fit.labels });
    } catch (e) {
      windows.push({ from, to, verdict: 'failed', reason: (e as Error).message });
    }
  }
  const modalLabel: (RegimeLabel | null)[] = new Array<RegimeLabel | null>(n).fill(null);
  const agreement = new Float64Array(n).fill(NaN);
  let total = 0;
  for (let t = 0; t < n && labelled.length > 0; t++) {
    const counts = new Map<RegimeLabel, number>();
    for (const bars of labelled) counts.set(bars![t]!, (counts.get(bars![t]!) ?? 0) + 1);
    let mode: RegimeLabel | null = null, most = 0;
    for (const [label, c] of counts) if (c > most) { most = c; mode = label; }
    modalLabel[t] = mode;
    agreement[t] = most / labelled.length;
    total += agreement[t]!;
  }
  const consecutiveAgreement = Float64Array.from({ length: Math.max(0, labelled.length - 1) }, (_, i) => {
    let same = 0;
    for (let t = 0; t < n; t++) if (labelled[i]![t] === labelled[i + 1]![t]) same++;
    return same / n;
  });
  return { windows, modalLabel, agreement, meanAgreement: labelled.length > 0 ? total / n : NaN, consecutiveAgreement };
}
