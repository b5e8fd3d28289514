import { fitMsGarch, type FitConstraints, type Innovations, type MsGarchFit, type VarianceMode } from './fit-ms-garch.js';
import { filterRegimes } from './regime-filter.js';
import { RegimeError } from './regime-error.js';

/** One model tried by {@link selectRegimeModel}. */
export interface RegimeCandidate {
  readonly states: number;
  readonly innovations: Innovations;
  readonly variance: VarianceMode;
}

/** One row of the selection table. */
export interface RegimeSelectionRow extends RegimeCandidate {
  /** 'ok', 'degenerate' (reasons listed) or 'failed' (the fit threw; `error` says why). */
  readonly verdict: 'ok' | 'degenerate' | 'failed';
  readonly reasons: readonly string[];
  readonly error?: string;
  readonly parameterCount: number;
  /** Log-likelihood of the training part (return units); NaN when failed. */
  readonly trainLogLikelihood: number;
  /** BIC of the training fit. */
  readonly bic: number;
  /** Mean one-step-ahead log score log f(r_t | r_1..r_{t-1}) over the held-back tail (model fitted on the head only). */
  readonly holdoutLogScore: number;
  /** The training fit (absent when failed). */
  readonly fit?: MsGarchFit;
}

/** Options of {@link selectRegimeModel}. */
export interface SelectRegimeModelOptions {
  readonly seed: number;
  /** Models to try (default {@link defaultRegimeCandidates}: K = 1..4 × normal/t × GARCH/constant variance). */
  readonly candidates?: readonly RegimeCandidate[];
  /** Share of the returns held back at the end for scoring, in (0, 0.5] (default 0.25). */
  readonly holdoutFraction?: number;
  readonly constraints?: Partial<FitConstraints>;
  /** Starts per fit (default as fitMsGarch). */
  readonly starts?: number;
}

/** Result of {@link selectRegimeModel}. */
export interface RegimeSelection {
  readonly rows: readonly RegimeSelectionRow[];
  /** Index into `rows` of the non-degenerate model with the best held-out log score; −1 when every fit is degenerate or failed. */
  readonly chosen: number;
  /** Index of the non-degenerate model with the lowest BIC (reported next to the held-out choice); −1 as above. */
  readonly bicChoice: number;
  readonly trainBars: number;
  readonly holdoutBars: number;
}

/** K = 1..4 × the given innovations × the given variance modes (GARCH(1,1) per state, or constant: Markov-switching mean/variance). */
export function defaultRegimeCandidates(innovations: readonly Innovations[] = ['normal', 't'], variances: readonly VarianceMode[] = ['garch', 'constant']): RegimeCandidate[] {
  return variances.flatMap((variance) => innovations.flatMap((i) => [1, 2, 3, 4].map((states) => ({ states, innovations: i, variance }))));
}

/**
 * Chooses the number of states (and innovations) of a regime model by out-of-sample log score: each candidate is
 * fitted ({@link fitMsGarch}, `onDegenerate: 'report'`) on the first (1 − holdoutFraction) of `returns`, then filtered
 * over the whole series with its fitted parameters, and scored by the mean one-step-ahead log density over the
 * held-back tail — a causal forecast score, the filter state entering the tail is built from the head only. The
 * choice is the best held-out score among non-degenerate fits; the lowest-BIC non-degenerate fit is reported too.
 * @throws RegimeError `invalid_input` for a `holdoutFraction` outside (0, 0.5] or an empty candidate list.
 * @example
 * const s = selectRegimeModel(logReturns, { seed: 1 });
 * s.rows[s.chosen];  // { states: 2, innovations: 't', holdoutLogScore: ..., verdict: 'ok', ... }
 */
export function selectRegimeModel(returns: Float64Array, options: SelectRegimeModelOptions): RegimeSelection {
  const holdoutFraction = options.holdoutFraction ?? 0.25;
  if (!(holdoutFraction > 0 && holdoutFraction <= 0.5)) throw new RegimeError('invalid_input', `\`holdoutFraction\` must be in (0, 0.5], was ${holdoutFraction}`, { parameter: 'holdoutFraction', value: holdoutFraction });
  const candidates = options.candidates ?? defaultRegimeCandidates();
  if (candidates.length === 0) throw new RegimeError('invalid_input', '`candidates` must hold >= 1 model, was empty', { parameter: 'candidates', value: 0 });
  const n = returns.length;
  const split = Math.floor(n * (1 - holdoutFraction));
  const head = returns.subarray(0, split);
  const rows: RegimeSelectionRow[] = candidates.map((c) => {
    const block = 2 + (c.variance === 'garch' ? 2 : 0) + (c.innovations === 't' ? 1 : 0);
    const parameterCount = c.states * block + c.states * (c.states - 1);
    let fit: MsGarchFit;
    try {
      fit = fitMsGarch(head, {
        seed: options.seed, states: c.states, innovations: c.innovations, variance: c.variance, onDegenerate: 'report',
        ...(options.constraints === undefined ? {} : { constraints: options.constraints }),
        ...(options.starts === undefined ? {} : { starts: options.starts }),
      });
    } catch (e) {
      return { ...c, verdict: 'failed', reasons: [], error: (e as Error).message, parameterCount, trainLogLikelihood: NaN, bic: NaN, holdoutLogScore: NaN };
    }
    const all = filterRegimes(fit.model, returns, { initialVariance: fit.initialVariance });
    let score = 0;
    for (let t = split; t < n; t++) score += all.logDensity[t]!;
    return {
      ...c, verdict: fit.verdict, reasons: fit.degenerateReasons.map((r) => r.message), parameterCount,
      trainLogLikelihood: fit.logLikelihood, bic: fit.bic, holdoutLogScore: score / (n - split), fit,
    };
  });
  let chosen = -1, bicChoice = -1;
  rows.forEach((r, i) => {
    if (r.verdict !== 'ok') return;
    if (chosen < 0 || r.holdoutLogScore > rows[chosen]!.holdoutLogScore) chosen = i;
    if (bicChoice < 0 || r.bic < rows[bicChoice]!.bic) bicChoice = i;
  });
  return { rows, chosen, bicChoice, trainBars: split, holdoutBars: n - split };
}
