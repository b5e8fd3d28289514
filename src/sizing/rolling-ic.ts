import { invalidInput } from './sizing-error.js';

/** Options of {@link RollingIc}: the `ic` section of `RiskConfig` plus the horizon. */
export interface RollingIcOptions {
  /** Completed pairs kept (the IC window); also the number of recent predictions behind the confidence. */
  readonly window: number;
  /** h: a prediction made at the close of bar t is paired with ln(close_{t+h} / close_t). */
  readonly horizonBars: number;
  /** Below this many pairs the IC is NaN; below this many predictions the confidence is 0. */
  readonly minPairs: number;
}

/**
 * Causal, incremental rolling Spearman information coefficient (IC) of a signal, and its confidence.
 *
 * Pairing: `update(prediction_t, close_t)` at the close of bar t. The prediction made at bar t − h is paired with
 * its realised forward log return R = ln(close_t / close_{t−h}) at bar t — the first moment R is known, never
 * earlier. A bar whose prediction is NaN (model warm-up, missing output) forms no pair.
 *
 * IC: Spearman's rank correlation of the last `window` completed pairs = Pearson correlation of their average
 * ranks (ties share the mean of their ranks, as scipy.stats.spearmanr). NaN when fewer than `minPairs` pairs or
 * when either side's ranks are all equal.
 *
 * Confidence of the latest prediction p_t: z = |p_t| / s_t, s_t = sample standard deviation of the last `window`
 * predictions (p_t included; all known at t), squashed to [0, 1) by c = erf(z / √2) = 2Φ(z) − 1: the share of a
 * zero-mean normal with the predictions' spread lying closer to 0 than p_t (z = 1 → 0.683, z = 2 → 0.954).
 * 0 when fewer than `minPairs` predictions, when s_t = 0, or when p_t is NaN. It measures how strong this
 * prediction is relative to the signal's usual output, not whether the signal works (that is the IC).
 *
 * Cost per update: O(window) time (binary search + one shift in two sorted arrays, one rank pass per side) and
 * no allocation: every buffer is preallocated in the constructor.
 * @example
 * const ic = new RollingIc({ window: 200, horizonBars: 1, minPairs: 30 });
 * ic.update(prediction, close); if (ic.ic >= 0.05) ...
 */
export class RollingIc {
  readonly window: number;
  readonly horizonBars: number;
  readonly minPairs: number;
  // pending predictions and log closes of the last h bars, slot t mod h
  private readonly pendingPrediction: Float64Array;
  private readonly pendingLogClose: Float64Array;
  // completed pairs by slot (slot = pair number mod window)
  private readonly x: Float64Array;
  private readonly y: Float64Array;
  // each side sorted ascending: values and the slot they belong to
  private readonly sortedX: Float64Array;
  private readonly sortedY: Float64Array;
  private readonly slotX: Int32Array;
  private readonly slotY: Int32Array;
  /** By slot: the y side's average rank minus the mean rank. */
  private readonly centeredRankY: Float64Array;
  // recent predictions (ring) for the confidence
  private readonly recent: Float64Array;
  private bar = 0;
  private pairCount = 0;
  private next = 0;
  private recentCount = 0;
  private recentNext = 0;
  /**
   * [ic, confidence]. Doubles live in typed arrays and are passed by index, never by value between non-inlined
   * calls: V8 boxes (allocates) a double passed to or returned from a call it does not inline.
   */
  private readonly values = Float64Array.of(Number.NaN, 0);
  /** [prediction, close] of the bar being taken in. */
  private readonly input = new Float64Array(2);

  /** @throws SizingError `invalid_input` when `window` < 3, `horizonBars` < 1 or `minPairs` is outside [3, window]. */
  constructor(options: RollingIcOptions) {
    const { window, horizonBars, minPairs } = options;
    if (!(Number.isInteger(window) && window >= 3)) invalidInput('window', 'be an integer >= 3', window);
    if (!(Number.isInteger(horizonBars) && horizonBars >= 1)) invalidInput('horizonBars', 'be an integer >= 1', horizonBars);
    if (!(Number.isInteger(minPairs) && minPairs >= 3 && minPairs <= window)) invalidInput('minPairs', `be an integer in [3, window = ${window}]`, minPairs);
    this.window = window;
    this.horizonBars = horizonBars;
    this.minPairs = minPairs;
    this.pendingPrediction = new Float64Array(horizonBars);
    this.pendingLogClose = new Float64Array(horizonBars);
    this.x = new Float64Array(window);
    this.y = new Float64Array(window);
    this.sortedX = new Float64Array(window);
    this.sortedY = new Float64Array(window);
    this.slotX = new Int32Array(window);
    this.slotY = new Int32Array(window);
    this.centeredRankY = new Float64Array(window);
    this.recent = new Float64Array(window);
  }

  /**
   * Takes bar t's prediction (NaN = none) and close, completes the pair of the prediction made h bars ago, and
   * recomputes the IC and the confidence. Allocates nothing.
   * @throws SizingError `invalid_input` when `close` is not finite and > 0 or `prediction` is ±Infinity.
   */
  update(prediction: number, close: number): void {
    // a tiny method V8 inlines at the call site, so the two doubles are never boxed; step() reads them from `input`
    this.input[0] = prediction;
    this.input[1] = close;
    this.step();
  }

  /** {@link update} on `input`: pairs, IC, confidence. */
  private step(): void {
    const prediction = this.input[0]!, close = this.input[1]!;
    if (!(close > 0 && close < Infinity)) invalidInput('close', 'be finite and > 0', close);
    if (prediction === Infinity || prediction === -Infinity) invalidInput('prediction', 'be finite or NaN (no prediction)', prediction);
    const h = this.horizonBars;
    const slot = this.bar % h;
    const logClose = Math.log(close);
    if (this.bar >= h && !Number.isNaN(this.pendingPrediction[slot]!)) {
      // the pair (prediction at t − h, ln close_t − ln close_{t−h}) replaces the oldest pair of a full window
      const w = this.window;
      const n = this.pairCount < w ? this.pairCount : w;
      const s = this.next;
      if (n === w) {
        removeSorted(this.sortedX, this.slotX, n, this.x, s);
        removeSorted(this.sortedY, this.slotY, n, this.y, s);
      }
      this.x[s] = this.pendingPrediction[slot]!;
      this.y[s] = logClose - this.pendingLogClose[slot]!;
      const m = n === w ? n - 1 : n;
      insertSorted(this.sortedX, this.slotX, m, this.x, s);
      insertSorted(this.sortedY, this.slotY, m, this.y, s);
      this.next = s + 1 === w ? 0 : s + 1;
      this.pairCount++;
      this.updateIc();
    }
    this.pendingPrediction[slot] = prediction;
    this.pendingLogClose[slot] = logClose;
    this.bar++;
    this.updateConfidence(slot);
  }

  /** Rolling Spearman IC of the completed pairs in the window (NaN until `minPairs` pairs, or when ranks are constant). */
  get ic(): number {
    return this.values[0]!;
  }

  /** Confidence in [0, 1) of the latest prediction (see the class comment). */
  get confidence(): number {
    return this.values[1]!;
  }

  /** Completed pairs currently in the window (<= window). */
  get pairs(): number {
    return Math.min(this.pairCount, this.window);
  }

  /** Bars seen. */
  get bars(): number {
    return this.bar;
  }

  /** Returns a copy of the window's pairs, oldest first (diagnostics and tests; allocates). */
  windowPairs(): { readonly predictions: Float64Array; readonly returns: Float64Array } {
    const n = this.pairs;
    const predictions = new Float64Array(n), returns = new Float64Array(n);
    const first = this.pairCount > this.window ? this.next : 0;
    for (let i = 0; i < n; i++) {
      const s = (first + i) % this.window;
      predictions[i] = this.x[s]!;
      returns[i] = this.y[s]!;
    }
    return { predictions, returns };
  }

  private updateIc(): void {
    const n = Math.min(this.pairCount, this.window);
    if (n < this.minPairs) {
      this.values[0] = Number.NaN;
      return;
    }
    // Pearson correlation of the average ranks, in two passes over the sorted sides (y: centered rank by slot; x: each
    // tie group's centered rank times the sum of its pairs' y ranks). Every centered rank is a multiple of 1/2 and at
    // most n/2 in size, so every term and partial sum below is a multiple of 1/4 under n³/4 < 2^51 (n <= 100,000):
    // exact in doubles, hence the same bits in any summation order (as the reference `spearman` computes them).
    const mean = (n + 1) / 2;
    const sortedY = this.sortedY, slotY = this.slotY, dy = this.centeredRankY;
    let syy = 0;
    for (let i = 0; i < n; ) {
      let j = i + 1;
      const v = sortedY[i]!;
      while (j < n && sortedY[j] === v) j++;
      const d = (i + 1 + j) / 2 - mean;
      for (let m = i; m < j; m++) dy[slotY[m]!] = d;
      syy += d * d * (j - i);
      i = j;
    }
    const sortedX = this.sortedX, slotX = this.slotX;
    let sxx = 0, sxy = 0;
    for (let i = 0; i < n; ) {
      let j = i + 1;
      const v = sortedX[i]!;
      while (j < n && sortedX[j] === v) j++;
      const d = (i + 1 + j) / 2 - mean;
      let sumY = 0;
      for (let m = i; m < j; m++) sumY += dy[slotX[m]!]!;
      sxy += d * sumY;
      sxx += d * d * (j - i);
      i = j;
    }
    this.values[0] = sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : Number.NaN;
  }

  /** Confidence of the prediction just stored in `pendingPrediction[slot]`. */
  private updateConfidence(slot: number): void {
    const prediction = this.pendingPrediction[slot]!;
    this.values[1] = 0;
    if (Number.isNaN(prediction)) return;
    const w = this.window;
    this.recent[this.recentNext] = prediction;
    this.recentNext = this.recentNext + 1 === w ? 0 : this.recentNext + 1;
    if (this.recentCount < w) this.recentCount++;
    const n = this.recentCount;
    if (n < this.minPairs) return;
    let sum = 0;
    for (let i = 0; i < n; i++) sum += this.recent[i]!;
    const mean = sum / n;
    let ss = 0;
    for (let i = 0; i < n; i++) {
      const d = this.recent[i]! - mean;
      ss += d * d;
    }
    const sd = Math.sqrt(ss / (n - 1));
    if (!(sd > 0)) return;
    // erf(z / √2) by the Chebyshev-fitted erfc of Numerical Recipes (fractional error < 1.2e-7), inlined so no
    // double crosses a call; the approximation could put erf(0) a hair below 0, hence the max.
    const x = Math.abs(prediction) / sd / Math.SQRT2;
    const t = 1 / (1 + 0.5 * x);
    const erfc = t * Math.exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
    this.values[1] = Math.max(0, 1 - erfc);
  }
}

/**
 * Spearman rank correlation of `x` and `y` computed from scratch (sorts copies; allocates): Pearson correlation of
 * average ranks. NaN when fewer than 2 pairs or when either side is constant. The reference for {@link RollingIc}.
 * @throws SizingError `invalid_input` when the lengths differ.
 */
export function spearman(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = x.length;
  if (y.length !== n) invalidInput('y', `have the length of \`x\` (${n})`, y.length);
  if (n < 2) return NaN;
  const rx = ranksOf(x), ry = ranksOf(y);
  const mean = (n + 1) / 2;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = rx[i]! - mean, dy = ry[i]! - mean;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : NaN;
}

function ranksOf(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => values[a]! - values[b]! || a - b);
  const ranks = new Float64Array(n);
  for (let i = 0; i < n; ) {
    let j = i + 1;
    while (j < n && values[order[j]!] === values[order[i]!]) j++;
    const rank = (i + 1 + j) / 2;
    for (let m = i; m < j; m++) ranks[order[m]!] = rank;
    i = j;
  }
  return ranks;
}

/** Inserts `values[slot]` (tagged `slot`) into the ascending `sorted[0..n)`, after any equal values. */
function insertSorted(sorted: Float64Array, slots: Int32Array, n: number, values: Float64Array, slot: number): void {
  const value = values[slot]!;
  let lo = 0, hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= value) lo = mid + 1;
    else hi = mid;
  }
  sorted.copyWithin(lo + 1, lo, n);
  slots.copyWithin(lo + 1, lo, n);
  sorted[lo] = value;
  slots[lo] = slot;
}

/** Removes the entry tagged `slot` (value `values[slot]`) from the ascending `sorted[0..n)`. */
function removeSorted(sorted: Float64Array, slots: Int32Array, n: number, values: Float64Array, slot: number): void {
  const value = values[slot]!;
  let lo = 0, hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  while (slots[lo] !== slot) lo++;
  sorted.copyWithin(lo, lo + 1, n);
  slots.copyWithin(lo, lo + 1, n);
}
