import { describe, expect, it } from 'vitest';
import { minimizeLbfgs } from './lbfgs.js';

describe('minimizeLbfgs', () => {
  it('minimises the 10-dimensional Rosenbrock function to 1e-8', () => {
    const n = 10;
    const f = (x: Float64Array, g: Float64Array | null): number => {
      let v = 0;
      if (g) g.fill(0);
      for (let i = 0; i < n - 1; i++) {
        const a = x[i + 1]! - x[i]! * x[i]!, b = 1 - x[i]!;
        v += 100 * a * a + b * b;
        if (g) {
          g[i] = g[i]! - 400 * x[i]! * a - 2 * b;
          g[i + 1] = g[i + 1]! + 200 * a;
        }
      }
      return v;
    };
    const r = minimizeLbfgs(f, new Float64Array(n).fill(-1.2), { maxIterations: 500, gradientTolerance: 1e-10, functionTolerance: 0 });
    expect(r.value).toBeLessThan(1e-16);
    for (let i = 0; i < n; i++) expect(Math.abs(r.x[i]! - 1)).toBeLessThan(1e-8);
  });

  it('treats Infinity as outside the domain and backs off', () => {
    // f = x - log(x) on x > 0 (minimum at 1), Infinity for x <= 0
    const f = (x: Float64Array, g: Float64Array | null): number => {
      const v = x[0]!;
      if (!(v > 0)) return Infinity;
      if (g) g[0] = 1 - 1 / v;
      return v - Math.log(v);
    };
    const r = minimizeLbfgs(f, Float64Array.of(8), { maxIterations: 100, gradientTolerance: 1e-10, functionTolerance: 0, initialStep: 100 });
    expect(Math.abs(r.x[0]! - 1)).toBeLessThan(1e-8);
  });
});
