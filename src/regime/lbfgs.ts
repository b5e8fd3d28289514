/**
 * Limited-memory BFGS minimiser with a strong-Wolfe line search (Nocedal & Wright 2006, algorithms 7.4, 3.5, 3.6).
 * Internal to the fit; deterministic (no randomness). Objective values of Infinity/NaN are treated as "too far":
 * the line search shrinks the step.
 * @internal
 */

/** Objective: returns f(x) and, when `gradient` is given, writes ∇f(x) into it. */
export type Objective = (x: Float64Array, gradient: Float64Array | null) => number;

export interface LbfgsOptions {
  /** Maximum iterations (line searches). */
  readonly maxIterations: number;
  /** Stop when max |∇f| <= gradientTolerance. */
  readonly gradientTolerance: number;
  /** Stop when (f_prev − f) <= functionTolerance · max(1, |f|) on `patience` consecutive iterations. */
  readonly functionTolerance: number;
  readonly patience?: number;
  /** Number of stored correction pairs (default 100: for the few dozen parameters of a regime model this is close to full BFGS, which converges far faster than a short memory on these ill-conditioned likelihoods). */
  readonly memory?: number;
  /** Maximum step length in the first iteration, as a max-norm move of x (default 0.5). */
  readonly initialStep?: number;
}

export type LbfgsStop = 'gradient' | 'function' | 'max_iterations' | 'line_search';

export interface LbfgsResult {
  readonly x: Float64Array;
  readonly value: number;
  readonly iterations: number;
  readonly evaluations: number;
  readonly stop: LbfgsStop;
}

const C1 = 1e-4;
const C2 = 0.9;

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

/** Minimises `objective` from `x0` (not modified). */
export function minimizeLbfgs(objective: Objective, x0: Float64Array, options: LbfgsOptions): LbfgsResult {
  const n = x0.length;
  const mem = options.memory ?? 100;
  const patience = options.patience ?? 2;
  const x = Float64Array.from(x0);
  const g = new Float64Array(n);
  let evaluations = 1;
  let f = objective(x, g);
  if (!Number.isFinite(f)) return { x, value: f, iterations: 0, evaluations, stop: 'line_search' };
  const sList: Float64Array[] = [];
  const yList: Float64Array[] = [];
  const rhoList: number[] = [];
  const d = new Float64Array(n);
  const alphaBuf = new Float64Array(mem);
  const xNew = new Float64Array(n);
  const gNew = new Float64Array(n);
  let calm = 0;
  let iteration = 0;
  let stop: LbfgsStop = 'max_iterations';
  if (maxAbs(g) <= options.gradientTolerance) return { x, value: f, iterations: 0, evaluations, stop: 'gradient' };
  while (iteration < options.maxIterations) {
    // two-loop recursion: d = −H g
    for (let i = 0; i < n; i++) d[i] = -g[i]!;
    const m = sList.length;
    for (let j = m - 1; j >= 0; j--) {
      const a = rhoList[j]! * dot(sList[j]!, d);
      alphaBuf[j] = a;
      const y = yList[j]!;
      for (let i = 0; i < n; i++) d[i] = d[i]! - a * y[i]!;
    }
    if (m > 0) {
      const gamma = dot(sList[m - 1]!, yList[m - 1]!) / dot(yList[m - 1]!, yList[m - 1]!);
      for (let i = 0; i < n; i++) d[i] = d[i]! * gamma;
    }
    for (let j = 0; j < m; j++) {
      const b = rhoList[j]! * dot(yList[j]!, d);
      const s = sList[j]!;
      const a = alphaBuf[j]!;
      for (let i = 0; i < n; i++) d[i] = d[i]! + (a - b) * s[i]!;
    }
    let slope = dot(g, d);
    if (!(slope < 0)) {
      // not a descent direction: reset memory and use steepest descent
      sList.length = 0; yList.length = 0; rhoList.length = 0;
      for (let i = 0; i < n; i++) d[i] = -g[i]!;
      slope = dot(g, d);
    }
    const first = sList.length === 0 ? Math.min(1, (options.initialStep ?? 0.5) / Math.max(maxAbs(d), 1e-300)) : 1;
    const ls = lineSearch(objective, x, f, g, d, slope, first, xNew, gNew);
    evaluations += ls.evaluations;
    iteration++;
    if (!ls.ok) {
      if (sList.length > 0) {
        // retry once from steepest descent with a fresh memory
        sList.length = 0; yList.length = 0; rhoList.length = 0;
        continue;
      }
      stop = 'line_search';
      break;
    }
    const s = new Float64Array(n);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      s[i] = xNew[i]! - x[i]!;
      y[i] = gNew[i]! - g[i]!;
    }
    const sy = dot(s, y);
    if (sy > 1e-12 * Math.sqrt(dot(s, s) * dot(y, y))) {
      if (sList.length === mem) { sList.shift(); yList.shift(); rhoList.shift(); }
      sList.push(s); yList.push(y); rhoList.push(1 / sy);
    }
    const fPrev = f;
    x.set(xNew);
    g.set(gNew);
    f = ls.value;
    if (maxAbs(g) <= options.gradientTolerance) { stop = 'gradient'; break; }
    if (fPrev - f <= options.functionTolerance * Math.max(1, Math.abs(f))) {
      if (++calm >= patience) { stop = 'function'; break; }
    } else calm = 0;
  }
  return { x, value: f, iterations: iteration, evaluations, stop };
}

interface LineSearchResult {
  readonly ok: boolean;
  readonly value: number;
  readonly evaluations: number;
}

/** Strong-Wolfe line search along d from x; on success writes the accepted point into xOut/gOut. */
function lineSearch(objective: Objective, x: Float64Array, f0: number, g0: Float64Array, d: Float64Array, slope0: number, step0: number, xOut: Float64Array, gOut: Float64Array): LineSearchResult {
  const n = x.length;
  let evaluations = 0;
  const phi = (a: number): { f: number; slope: number } => {
    for (let i = 0; i < n; i++) xOut[i] = x[i]! + a * d[i]!;
    evaluations++;
    const f = objective(xOut, gOut);
    return { f, slope: Number.isFinite(f) ? dot(gOut, d) : NaN };
  };
  // keep copies of the best Armijo point in case zoom fails
  let aPrev = 0, fPrev = f0, sPrev = slope0;
  let a = step0;
  for (let iter = 0; iter < 30; iter++) {
    const p = phi(a);
    if (!Number.isFinite(p.f) || p.f > f0 + C1 * a * slope0 || (iter > 0 && p.f >= fPrev)) {
      if (!Number.isFinite(p.f) && aPrev === 0) {
        a *= 0.1; // undefined region: shrink before bracketing
        continue;
      }
      return zoom(aPrev, fPrev, sPrev, a, p.f, p.slope);
    }
    if (Math.abs(p.slope) <= -C2 * slope0) return { ok: true, value: p.f, evaluations };
    if (p.slope >= 0) return zoom(a, p.f, p.slope, aPrev, fPrev, sPrev);
    aPrev = a; fPrev = p.f; sPrev = p.slope;
    a *= 2.5;
  }
  return { ok: false, value: f0, evaluations };

  function zoom(aLo: number, fLo: number, sLo: number, aHi: number, fHi: number, sHi: number): LineSearchResult {
    for (let iter = 0; iter < 30; iter++) {
      let aj: number;
      const lo = Math.min(aLo, aHi), hi = Math.max(aLo, aHi), width = hi - lo;
      if (Number.isFinite(fHi) && Number.isFinite(sHi)) {
        aj = cubicMin(aLo, fLo, sLo, aHi, fHi, sHi);
        if (!(aj > lo + 0.1 * width && aj < hi - 0.1 * width)) aj = 0.5 * (aLo + aHi);
      } else aj = aLo + 0.2 * (aHi - aLo);
      const p = phi(aj);
      if (!Number.isFinite(p.f) || p.f > f0 + C1 * aj * slope0 || p.f >= fLo) {
        aHi = aj; fHi = p.f; sHi = p.slope;
      } else {
        if (Math.abs(p.slope) <= -C2 * slope0) return { ok: true, value: p.f, evaluations };
        if (p.slope * (aHi - aLo) >= 0) { aHi = aLo; fHi = fLo; sHi = sLo; }
        aLo = aj; fLo = p.f; sLo = p.slope;
      }
      if (Math.abs(aHi - aLo) < 1e-14 * Math.max(1, Math.abs(aLo))) break;
    }
    // accept the best sufficient-decrease point found, if any
    if (aLo > 0 && fLo < f0) {
      const p = phi(aLo);
      if (p.f === fLo) return { ok: true, value: p.f, evaluations };
    }
    return { ok: false, value: f0, evaluations };
  }
}

/** Minimiser of the cubic interpolating (a, fa, sa) and (b, fb, sb); NaN when it has none. */
function cubicMin(a: number, fa: number, sa: number, b: number, fb: number, sb: number): number {
  const d1 = sa + sb - 3 * ((fa - fb) / (a - b));
  const disc = d1 * d1 - sa * sb;
  if (!(disc >= 0)) return NaN;
  const d2 = Math.sign(b - a) * Math.sqrt(disc);
  return b - (b - a) * ((sb + d2 - d1) / (sb - sa + 2 * d2));
}
