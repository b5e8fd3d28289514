import type { Random } from '../core/random.js';
import { normalDraw } from '../core/random.js';
import { ergodicDistribution, unconditionalVariance, validateModel, type MsGarchModel } from './ms-garch-model.js';
import { RegimeError } from './regime-error.js';

/** A simulated path of an MS-GARCH model. */
export interface MsGarchPath {
  /** r_t, in the model's return units. */
  readonly returns: Float64Array;
  /** s_t, the active state of each bar. */
  readonly states: Int32Array;
  /** h_{s_t,t}, the variance r_t was drawn with. */
  readonly variance: Float64Array;
}

/**
 * Simulates `bars` returns from `model` with the seeded `random` (habit 3: same seed, same path). The chain starts
 * from its ergodic distribution; every state's recursion starts at its unconditional variance (h_{k,-1} =
 * e_{k,-1}^2 = omega_k / (1 − alpha_k − beta_k)); each bar updates all K recursions with the realised return, then
 * draws r_t = mean_{s_t} + sqrt(h_{s_t,t}) · z (z standard normal, or unit-variance Student-t for finite nu: N(0, 1) ·
 * sqrt((ν − 2) / χ²_ν), χ²_ν = 2 · Gamma(ν/2) by Marsaglia & Tsang) and s_{t+1} from row s_t of the transition matrix.
 * @throws RegimeError `invalid_input` when `bars` is not an integer >= 1; `invalid_model` for a bad model.
 */
export function simulateMsGarch(model: MsGarchModel, bars: number, random: Random): MsGarchPath {
  validateModel(model);
  if (!(Number.isInteger(bars) && bars >= 1)) throw new RegimeError('invalid_input', `\`bars\` must be an integer >= 1, was ${bars}`, { parameter: 'bars', value: bars });
  const k = model.states;
  const pi = ergodicDistribution(model.transition, k);
  const h = unconditionalVariance(model);
  const e2 = Float64Array.from(h);
  const returns = new Float64Array(bars);
  const states = new Int32Array(bars);
  const variance = new Float64Array(bars);
  let s = draw(pi, 0, k, random);
  for (let t = 0; t < bars; t++) {
    for (let j = 0; j < k; j++) h[j] = model.omega[j]! + model.alpha[j]! * e2[j]! + model.beta[j]! * h[j]!;
    const v = model.nu[s]!;
    const z = v === Infinity ? normalDraw(random) : normalDraw(random) * Math.sqrt((v - 2) / (2 * gammaDraw(v / 2, random)));
    const r = model.mean[s]! + Math.sqrt(h[s]!) * z;
    returns[t] = r;
    states[t] = s;
    variance[t] = h[s]!;
    for (let j = 0; j < k; j++) { const e = r - model.mean[j]!; e2[j] = e * e; }
    s = draw(model.transition, s * k, k, random);
  }
  return { returns, states, variance };
}

function draw(p: Float64Array, offset: number, k: number, random: Random): number {
  const u = random();
  let c = 0;
  for (let j = 0; j < k - 1; j++) {
    c += p[offset + j]!;
    if (u < c) return j;
  }
  return k - 1;
}

/** Gamma(shape, 1) draw, Marsaglia & Tsang (2000); shape < 1 by the u^(1/shape) boost. */
function gammaDraw(shape: number, random: Random): number {
  if (shape < 1) return gammaDraw(shape + 1, random) * Math.pow(random(), 1 / shape);
  const d = shape - 1 / 3, c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number, v: number;
    do {
      x = normalDraw(random);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = random();
    if (u < 1 - 0.0331 * x * x * x * x || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}
