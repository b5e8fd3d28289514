import { describe, expect, it } from 'vitest';
import { fitRidge, predictRidge } from './ridge-regression.js';

describe('fitRidge', () => {
  it('λ = 0 recovers an exact linear relation; matches the hand-computed 1-D shrinkage', () => {
    // y = 2 + 3 x1 - x2 on 4 rows
    const values = Float64Array.of(0, 1, 1, 0, 2, 5, 3, 2);
    const y = Float64Array.from([0, 1, 2, 3], (r) => 2 + 3 * values[r * 2]! - values[r * 2 + 1]!);
    const m = fitRidge({ values, rows: 4, columns: 2 }, y, 0);
    const p = predictRidge(m, Float64Array.of(10, -4), 1);
    expect(p[0]).toBeCloseTo(2 + 30 + 4, 9);
    // one column x = [0, 1, 2, 3]: mean 1.5, sd sqrt(5/3); z = (x - 1.5)/sd, Σz² = 3, y = x -> Σ z y = Σ z (x) = 5/sd
    // β = (5/sd) / (3 + λ); with λ = 3: β = 5 / (6 sd); prediction at x = 3: 1.5 + β (1.5 / sd) = 1.5 + 7.5 / (6 · 5/3) = 2.25
    const one = fitRidge({ values: Float64Array.of(0, 1, 2, 3), rows: 4, columns: 1 }, Float64Array.of(0, 1, 2, 3), 3);
    expect(predictRidge(one, Float64Array.of(3), 1)[0]).toBeCloseTo(2.25, 12);
  });

  it('treats NaN as the column mean and refuses a negative λ or a singular system', () => {
    const one = fitRidge({ values: Float64Array.of(0, 1, 2, 3, NaN), rows: 5, columns: 1 }, Float64Array.of(0, 1, 2, 3, 1.5), 0);
    expect(predictRidge(one, Float64Array.of(NaN), 1)[0]).toBeCloseTo(1.5, 12);
    expect(() => fitRidge({ values: Float64Array.of(1, 2), rows: 2, columns: 1 }, Float64Array.of(1, 2), -1)).toThrow(/lambda must be a finite number >= 0, was -1/);
    expect(() => fitRidge({ values: Float64Array.of(1, 2, 2, 4, 3, 6), rows: 3, columns: 2 }, Float64Array.of(1, 2, 3), 0)).toThrow(/singular at column 1/);
  });
});
