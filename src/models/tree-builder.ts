import type { BinnedFeatures } from './feature-binning.js';
import type { SeededRandom } from './seeded-random.js';

/** One regression tree in flat arrays; node 0 is the root, a leaf has `feature === -1`. */
export interface RegressionTree {
  /** Split feature per node, -1 for a leaf. */
  readonly feature: Int32Array;
  /** Split value per node (float32-representable); a row goes left when `fround(x) <= threshold`. 0 for leaves. */
  readonly threshold: Float32Array;
  /** Left ("true") child per node, -1 for leaves. */
  readonly left: Int32Array;
  /** Right ("false", also NaN) child per node, -1 for leaves. */
  readonly right: Int32Array;
  /** Leaf output (float32-representable, learning rate already applied); 0 for split nodes. */
  readonly value: Float64Array;
  /** Loss reduction of each split (0 for leaves); summed per feature for importance. */
  readonly gain: Float64Array;
  /** Training rows (with bootstrap multiplicity) that reached each node. */
  readonly cover: Float64Array;
}

/** Controls of one tree's growth. */
export interface GrowOptions {
  readonly maxDepth: number;
  readonly minLeaf: number;
  /** L2 penalty on leaf values (XGBoost λ); 0 gives plain variance reduction. */
  readonly lambda: number;
  /** Smallest gain a split must exceed (XGBoost γ). */
  readonly minSplitGain: number;
  /** Candidate features drawn per split (random forest `mtry`); `>= candidates.length` means all, every split. */
  readonly featuresPerSplit: number;
  /** Leaf values are multiplied by this, then rounded to float32. */
  readonly shrinkage: number;
}

/**
 * Reusable buffers of a tree grower for one binned matrix, so that growing many trees allocates little.
 * Not safe to share between concurrent growers.
 */
export class TreeGrower {
  private readonly partitionScratch: Int32Array;
  private readonly histogramPool: Float64Array[] = [];
  private readonly histogramSize: number;
  private readonly featureScratch: Int32Array;

  constructor(private readonly data: BinnedFeatures) {
    this.partitionScratch = new Int32Array(Math.max(1, data.rows));
    this.histogramSize = data.columns * data.maxBins * 2;
    this.featureScratch = new Int32Array(data.columns);
  }

  /**
   * Grows one tree minimising squared error of leaf values against `-gradient` (so a leaf's value is
   * `-sum(g) / (count + lambda)`): pass residuals `prediction - target` for boosting, `-target` for a forest.
   * `rowIndex[0, count)` lists the in-bag rows (repeats allowed) and is reordered in place.
   * `candidates` lists the features this tree may split on.
   */
  grow(gradient: Float64Array, rowIndex: Int32Array, count: number, candidates: Int32Array, options: GrowOptions, random: SeededRandom): RegressionTree & { readonly splitBin: Int32Array } {
    const { bins, columns: d, maxBins: stride, thresholds } = this.data;
    const { maxDepth, minLeaf, lambda, minSplitGain, shrinkage } = options;
    const candidateCount = candidates.length;
    const perSplit = Math.min(options.featuresPerSplit, candidateCount);
    const sampled = perSplit < candidateCount;
    const features = this.featureScratch;

    const feature: number[] = [];
    const splitBin: number[] = [];
    const left: number[] = [];
    const right: number[] = [];
    const value: number[] = [];
    const gain: number[] = [];
    const cover: number[] = [];
    const addNode = (c: number): number => {
      feature.push(-1);
      splitBin.push(-1);
      left.push(-1);
      right.push(-1);
      value.push(0);
      gain.push(0);
      cover.push(c);
      return feature.length - 1;
    };

    let rootSum = 0;
    for (let i = 0; i < count; i++) rootSum += gradient[rowIndex[i]!]!;
    // Stack of pending nodes: id, start, end, depth, gradient sum, histogram (null when not built).
    const stackId: number[] = [addNode(count)];
    const stackStart: number[] = [0];
    const stackEnd: number[] = [count];
    const stackDepth: number[] = [0];
    const stackSum: number[] = [rootSum];
    const stackHist: (Float64Array | null)[] = [null];

    while (stackId.length > 0) {
      const id = stackId.pop()!;
      const start = stackStart.pop()!;
      const end = stackEnd.pop()!;
      const depth = stackDepth.pop()!;
      const sum = stackSum.pop()!;
      let hist = stackHist.pop()!;
      const n = end - start;
      // An empty node (possible only at the root of a tiny subsample) predicts 0 rather than 0/0.
      const leafValue = n + lambda > 0 ? Math.fround((shrinkage * -sum) / (n + lambda)) : 0;
      if (depth >= maxDepth || n < 2 * minLeaf) {
        if (hist) this.release(hist);
        value[id] = leafValue;
        continue;
      }
      // Candidate features of this split.
      let k = candidateCount;
      if (sampled) {
        features.set(candidates);
        for (let j = 0; j < perSplit; j++) {
          const pick = j + random.nextInt(candidateCount - j);
          const t = features[j]!;
          features[j] = features[pick]!;
          features[pick] = t;
        }
        k = perSplit;
        if (!hist) hist = this.buildHistogram(gradient, rowIndex, start, end, features, k);
      } else if (!hist) {
        hist = this.buildHistogram(gradient, rowIndex, start, end, candidates, k);
      }
      const list = sampled ? features : candidates;

      const parentScore = (sum * sum) / (n + lambda);
      let bestGain = minSplitGain;
      let bestFeature = -1;
      let bestBin = -1;
      let bestLeftSum = 0;
      for (let j = 0; j < k; j++) {
        const f = list[j]!;
        const last = thresholds[f]!.length; // bins 0..last; a split after bin b for b < last
        let gl = 0;
        let cl = 0;
        for (let b = 0, o = f * stride * 2; b < last; b++, o += 2) {
          const c = hist[o + 1]!;
          if (c === 0) continue; // same partition as the previous bin
          gl += hist[o]!;
          cl += c;
          if (cl < minLeaf) continue;
          const cr = n - cl;
          if (cr < minLeaf) break;
          const gr = sum - gl;
          const g = (gl * gl) / (cl + lambda) + (gr * gr) / (cr + lambda) - parentScore;
          if (g > bestGain) {
            bestGain = g;
            bestFeature = f;
            bestBin = b;
            bestLeftSum = gl;
          }
        }
      }
      if (bestFeature < 0) {
        this.release(hist);
        value[id] = leafValue;
        continue;
      }

      // Stable partition of rowIndex[start, end) into left (bin <= bestBin) then right.
      const scratch = this.partitionScratch;
      let l = start;
      let rCount = 0;
      for (let i = start; i < end; i++) {
        const row = rowIndex[i]!;
        if (bins[row * d + bestFeature]! <= bestBin) rowIndex[l++] = row;
        else scratch[rCount++] = row;
      }
      for (let i = 0; i < rCount; i++) rowIndex[l + i] = scratch[i]!;
      const nl = l - start;
      const nr = end - l;

      const leftId = addNode(nl);
      const rightId = addNode(nr);
      feature[id] = bestFeature;
      splitBin[id] = bestBin;
      left[id] = leftId;
      right[id] = rightId;
      gain[id] = bestGain;

      const leftGrows = depth + 1 < maxDepth && nl >= 2 * minLeaf;
      const rightGrows = depth + 1 < maxDepth && nr >= 2 * minLeaf;
      let leftHist: Float64Array | null = null;
      let rightHist: Float64Array | null = null;
      if (!sampled && (leftGrows || rightGrows)) {
        // Histogram subtraction: build the smaller child, derive the larger from the parent's buffer.
        const small = nl <= nr ? this.buildHistogram(gradient, rowIndex, start, l, candidates, k) : this.buildHistogram(gradient, rowIndex, l, end, candidates, k);
        for (let j = 0; j < k; j++) {
          for (let o = list[j]! * stride * 2, e = o + stride * 2; o < e; o++) hist[o] -= small[o]!;
        }
        if (nl <= nr) {
          leftHist = small;
          rightHist = hist;
        } else {
          leftHist = hist;
          rightHist = small;
        }
        if (!leftGrows) {
          this.release(leftHist);
          leftHist = null;
        }
        if (!rightGrows) {
          this.release(rightHist);
          rightHist = null;
        }
      } else {
        this.release(hist);
      }
      // Push right first so the left subtree is grown first (depth-first, left to right).
      stackId.push(rightId, leftId);
      stackStart.push(l, start);
      stackEnd.push(end, l);
      stackDepth.push(depth + 1, depth + 1);
      stackSum.push(sum - bestLeftSum, bestLeftSum);
      stackHist.push(rightHist, leftHist);
    }

    const threshold = new Float32Array(feature.length);
    for (let i = 0; i < feature.length; i++) if (feature[i]! >= 0) threshold[i] = thresholds[feature[i]!]![splitBin[i]!]!;
    return {
      feature: Int32Array.from(feature),
      threshold,
      left: Int32Array.from(left),
      right: Int32Array.from(right),
      value: Float64Array.from(value),
      gain: Float64Array.from(gain),
      cover: Float64Array.from(cover),
      splitBin: Int32Array.from(splitBin),
    };
  }

  /**
   * Histogram of (gradient sum, count) per (feature, bin) over rowIndex[start, end) for features list[0, k).
   * Row-major: each row's bins are read contiguously (measured faster here than a column-at-a-time walk with
   * gathered gradients, for all features and for `mtry` samples alike).
   */
  private buildHistogram(gradient: Float64Array, rowIndex: Int32Array, start: number, end: number, list: Int32Array, k: number): Float64Array {
    const hist = this.histogramPool.pop() ?? new Float64Array(this.histogramSize);
    const { bins, columns: d, maxBins: stride } = this.data;
    const twoStride = stride * 2;
    if (k === d) {
      hist.fill(0);
      for (let i = start; i < end; i++) {
        const row = rowIndex[i]!;
        const g = gradient[row]!;
        const base = row * d;
        for (let f = 0, o = 0; f < d; f++, o += twoStride) {
          const at = o + (bins[base + f]! << 1);
          hist[at] += g;
          hist[at + 1] += 1;
        }
      }
    } else {
      for (let j = 0; j < k; j++) hist.fill(0, list[j]! * twoStride, (list[j]! + 1) * twoStride);
      for (let i = start; i < end; i++) {
        const row = rowIndex[i]!;
        const g = gradient[row]!;
        const base = row * d;
        for (let j = 0; j < k; j++) {
          const f = list[j]!;
          const at = f * twoStride + (bins[base + f]! << 1);
          hist[at] += g;
          hist[at + 1] += 1;
        }
      }
    }
    return hist;
  }

  private release(hist: Float64Array): void {
    this.histogramPool.push(hist);
  }
}

/**
 * Leaf value of the row whose bins start at `bins[base]` in `tree`, split by bin index (identical to the
 * float32 threshold test).
 */
export function binnedLeafValue(tree: RegressionTree & { readonly splitBin: Int32Array }, bins: Uint8Array, base: number): number {
  const { feature, splitBin, left, right, value } = tree;
  let node = 0;
  let f = feature[0]!;
  while (f >= 0) {
    node = bins[base + f]! <= splitBin[node]! ? left[node]! : right[node]!;
    f = feature[node]!;
  }
  return value[node]!;
}
