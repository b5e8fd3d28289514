import type { FitBounds, MsGarchObjective } from './ms-garch-likelihood.js';
import { NU_MIN } from './ms-garch-likelihood.js';
import { unconditionalVariance, type MsGarchModel } from './ms-garch-model.js';
import { labelStates } from './regime-labels.js';
import { symmetricEigen } from './symmetric-eigen.js';

/** Standard errors of a fitted model's parameters (states in the model's order, return units; 0 for a parameter held fixed, NaN when the Hessian is not positive definite). */
export interface ParameterStandardErrors {
  readonly mean: Float64Array;
  readonly omega: Float64Array;
  readonly alpha: Float64Array;
  readonly beta: Float64Array;
  readonly nu: Float64Array;
  /** K×K row-major, like `transition`. */
  readonly transition: Float64Array;
}

/** Diagnostics of a fit ({@link diagnoseFit}). */
export interface FitDiagnostics {
  /** From the inverse Hessian of the log-likelihood (delta method through the reparametrisation). */
  readonly standardErrors: ParameterStandardErrors;
  /**
   * Largest / smallest eigenvalue of the Hessian of the mean negative log-likelihood in the fit's unconstrained
   * parameters, each rescaled by how far it moves the natural (standardised) parameters (Infinity when not positive
   * definite).
   */
  readonly conditionNumber: number;
  readonly hessianPositiveDefinite: boolean;
  /** Number of starts continued to convergence. */
  readonly finalists: number;
  /** How many of them ended within 0.01 log-likelihood units of the best. */
  readonly finalistsAtBest: number;
  /** Mean filtered probability of each state over the fitted bars (expected share of bars). */
  readonly occupancy: Float64Array;
  /** sqrt(omega / (1 − alpha − beta)) per state, return units. */
  readonly unconditionalVolatility: Float64Array;
  /** Expected stay 1 / (1 − P_kk) in bars (Infinity when P_kk = 1). */
  readonly expectedDuration: Float64Array;
}

/** Why a fit is degenerate: the parameter (as `name[state]`), its value and the rule it breaks. */
export interface DegenerateReason {
  readonly parameter: string;
  readonly state: number;
  readonly value: number;
  readonly rule: string;
  readonly message: string;
}

/** Inputs of {@link diagnoseFit}. @internal */
export interface DiagnoseInput {
  /** Objective of the fit (standardised returns); decoded at `theta` on return. */
  readonly objective: MsGarchObjective;
  readonly theta: Float64Array;
  /** Canonical order: state p of `model` is state order[p] of the objective. */
  readonly order: Int32Array;
  /** Standard deviation the returns were divided by. */
  readonly scale: number;
  /** The fitted model, canonical order, return units. */
  readonly model: MsGarchModel;
  /** Filtered probabilities T×K of `model` over the fitted returns. */
  readonly filtered: Float64Array;
  /** Bounds of the fit (standardised units). */
  readonly constraints: FitBounds;
  readonly finalLogLikelihoods: readonly number[];
  readonly bestLogLikelihood: number;
  readonly minOccupancy: number;
}

/** Smallest eigenvalue of the rescaled Hessian (mean negative log-likelihood per bar, natural units) counted as curvature. */
const HESSIAN_FLAT = 1e-8;

/** Tolerances of the degenerate verdict. */
export const DEGENERATE_RULES = Object.freeze({
  /** A stay probability below max(floor, 0.5) + this is degenerate (the state does not persist). */
  stayTolerance: 0.005,
  /** alpha + beta above min(maxPersistence, 0.999) − this is degenerate (integrated variance). */
  persistenceTolerance: 1e-4,
  /** An unconditional variance within this factor (relative, log scale) of a bound is degenerate. */
  varianceTolerance: 0.01,
  /** nu below NU_MIN + this is degenerate (a density with barely finite variance). */
  nuTolerance: 0.05,
});

/**
 * Returns the diagnostics of a fit and the reasons it is degenerate (empty = identifiable):
 * - standard errors: Hessian H of the mean negative log-likelihood in the unconstrained parameters by central
 *   differences of the exact gradient (step 1e-5 · max(1, |theta_i|)), covariance H⁻¹ / T, mapped to the
 *   natural parameters by the Jacobian J of the reparametrisation (central differences), then to return units;
 * - condition number of D⁻¹ H D⁻¹ (D = column norms of J) and whether it is positive definite (smallest
 *   eigenvalue > 1e-8);
 * - how many finalists reached the best log-likelihood (within 0.01);
 * - occupancy (mean filtered probability), unconditional volatility and expected duration per state.
 * Degenerate (K >= 2 for the transition and occupancy rules): a stay probability at or under max(stayFloor, 0.5);
 * alpha + beta at min(maxPersistence, 0.999); an unconditional variance at either bound; nu at its floor 2.05;
 * occupancy below `minOccupancy`; a Hessian that is not positive definite (names the parameter with the largest
 * weight in the flattest direction).
 * @internal
 */
export function diagnoseFit(input: DiagnoseInput): { diagnostics: FitDiagnostics; reasons: DegenerateReason[] } {
  const { objective, theta, order, scale, model, filtered, constraints } = input;
  const k = model.states, p = objective.size, n = objective.bars;
  const rank = new Int32Array(k); // objective state -> canonical index
  for (let q = 0; q < k; q++) rank[order[q]!] = q;
  // Hessian by central differences of the gradient
  const hessian = new Float64Array(p * p);
  const gUp = new Float64Array(p), gDown = new Float64Array(p), x = Float64Array.from(theta);
  for (let j = 0; j < p; j++) {
    const h = 1e-5 * Math.max(1, Math.abs(theta[j]!));
    x[j] = theta[j]! + h;
    objective.evaluate(x, gUp);
    x[j] = theta[j]! - h;
    objective.evaluate(x, gDown);
    x[j] = theta[j]!;
    for (let i = 0; i < p; i++) hessian[i * p + j] = (gUp[i]! - gDown[i]!) / (2 * h);
  }
  for (let i = 0; i < p; i++) for (let j = 0; j < i; j++) { const m = 0.5 * (hessian[i * p + j]! + hessian[j * p + i]!); hessian[i * p + j] = m; hessian[j * p + i] = m; }
  // natural parameters (standardised units): per state mean, omega, alpha, beta, nu (0 when Gaussian), then the K×K transition
  const m = 5 * k + k * k;
  const natural = (out: Float64Array): void => {
    for (let s = 0; s < k; s++) {
      out[5 * s] = objective.mean[s]!;
      out[5 * s + 1] = objective.omega[s]!;
      out[5 * s + 2] = objective.alpha[s]!;
      out[5 * s + 3] = objective.beta[s]!;
      out[5 * s + 4] = objective.nu[s] === Infinity ? 0 : objective.nu[s]!;
    }
    for (let i = 0; i < k * k; i++) out[5 * k + i] = objective.transition[i]!;
  };
  const jacobian = new Float64Array(m * p);
  const up = new Float64Array(m), down = new Float64Array(m);
  for (let j = 0; j < p; j++) {
    const h = 1e-6 * Math.max(1, Math.abs(theta[j]!));
    x[j] = theta[j]! + h;
    objective.decode(x);
    natural(up);
    x[j] = theta[j]! - h;
    objective.decode(x);
    natural(down);
    x[j] = theta[j]!;
    for (let i = 0; i < m; i++) jacobian[i * p + j] = (up[i]! - down[i]!) / (2 * h);
  }
  objective.decode(theta);
  // Scale each unconstrained coordinate by how far it moves the natural parameters (column norm of J), so that a
  // logit far out on its plateau (a transition probability of 0.002, say) is not mistaken for a flat direction:
  // Hs = D⁻¹ H D⁻¹, Js = J D⁻¹, and J H⁻¹ J' = Js Hs⁻¹ Js'.
  const d = new Float64Array(p);
  for (let j = 0; j < p; j++) {
    let ss = 0;
    for (let i = 0; i < m; i++) ss += jacobian[i * p + j]! ** 2;
    d[j] = Math.max(Math.sqrt(ss), 1e-150);
  }
  for (let i = 0; i < p; i++) for (let j = 0; j < p; j++) hessian[i * p + j] = hessian[i * p + j]! / (d[i]! * d[j]!);
  for (let i = 0; i < m; i++) for (let j = 0; j < p; j++) jacobian[i * p + j] = jacobian[i * p + j]! / d[j]!;
  const eigen = symmetricEigen(hessian, p);
  const lambdaMin = eigen.values[0]!, lambdaMax = eigen.values[p - 1]!;
  // flat: a curvature below 1e-8 per bar in natural units (identified parameters of these fits have 1e-4..10)
  const positiveDefinite = lambdaMin > HESSIAN_FLAT;
  const conditionNumber = positiveDefinite ? lambdaMax / lambdaMin : Infinity;
  const variance = new Float64Array(m).fill(NaN);
  if (positiveDefinite) {
    // Js V diag(1/lambda) V' Js' / n, diagonal only
    const jv = new Float64Array(m * p);
    for (let i = 0; i < m; i++) for (let c = 0; c < p; c++) {
      let acc = 0;
      for (let j = 0; j < p; j++) acc += jacobian[i * p + j]! * eigen.vectors[j * p + c]!;
      jv[i * p + c] = acc;
    }
    for (let i = 0; i < m; i++) {
      let acc = 0;
      for (let c = 0; c < p; c++) acc += (jv[i * p + c]! * jv[i * p + c]!) / eigen.values[c]!;
      variance[i] = acc / n;
    }
  }
  const se = (i: number): number => Math.sqrt(Math.max(variance[i]!, 0));
  const standardErrors: ParameterStandardErrors = {
    mean: Float64Array.from({ length: k }, (_, q) => se(5 * order[q]!) * scale),
    omega: Float64Array.from({ length: k }, (_, q) => se(5 * order[q]! + 1) * scale * scale),
    alpha: Float64Array.from({ length: k }, (_, q) => se(5 * order[q]! + 2)),
    beta: Float64Array.from({ length: k }, (_, q) => se(5 * order[q]! + 3)),
    nu: Float64Array.from({ length: k }, (_, q) => se(5 * order[q]! + 4)),
    transition: Float64Array.from({ length: k * k }, (_, c) => se(5 * k + order[Math.floor(c / k)]! * k + order[c % k]!)),
  };
  const occupancy = new Float64Array(k);
  const bars = filtered.length / k;
  for (let t = 0; t < bars; t++) for (let s = 0; s < k; s++) occupancy[s] = occupancy[s]! + filtered[t * k + s]!;
  for (let s = 0; s < k; s++) occupancy[s] = occupancy[s]! / bars;
  const best = input.bestLogLikelihood;
  const diagnostics: FitDiagnostics = {
    standardErrors,
    conditionNumber,
    hessianPositiveDefinite: positiveDefinite,
    finalists: input.finalLogLikelihoods.length,
    finalistsAtBest: input.finalLogLikelihoods.filter((l) => l >= best - 0.01).length,
    occupancy,
    unconditionalVolatility: unconditionalVariance(model).map(Math.sqrt),
    expectedDuration: Float64Array.from({ length: k }, (_, s) => 1 / (1 - model.transition[s * k + s]!)),
  };

  const labels = labelStates(model);
  const reasons: DegenerateReason[] = [];
  const add = (parameter: string, state: number, value: number, rule: string, what: string): void => {
    reasons.push({ parameter, state, value, rule, message: `\`${parameter}\` (${what} of state ${state}, ${labels[state]}) = ${value.toPrecision(4)}: ${rule}` });
  };
  const stayMin = Math.max(constraints.stayFloor, 0.5);
  const persistenceMax = Math.min(constraints.maxPersistence, 0.999);
  const v = unconditionalVariance(model);
  const s2 = scale * scale;
  for (let s = 0; s < k; s++) {
    const stay = model.transition[s * k + s]!;
    if (k > 1 && stay < stayMin + DEGENERATE_RULES.stayTolerance) add(`transition[${s}][${s}]`, s, stay, `must be above ${stayMin} (+${DEGENERATE_RULES.stayTolerance}): the state does not persist (stay floor ${constraints.stayFloor})`, 'stay probability');
    const persistence = model.alpha[s]! + model.beta[s]!;
    if (persistence > persistenceMax - DEGENERATE_RULES.persistenceTolerance) add(`alpha[${s}]+beta[${s}]`, s, persistence, `must be below ${persistenceMax} (−${DEGENERATE_RULES.persistenceTolerance}): integrated variance, the bound binds`, 'persistence');
    const ratio = v[s]! / s2;
    if (Math.log(ratio / constraints.varianceMin) < DEGENERATE_RULES.varianceTolerance) add(`variance[${s}]`, s, Math.sqrt(v[s]!), `unconditional volatility sits on its lower bound sample sd / ${Math.sqrt(1 / constraints.varianceMin).toPrecision(3)}`, 'unconditional volatility');
    if (Math.log(constraints.varianceMax / ratio) < DEGENERATE_RULES.varianceTolerance) add(`variance[${s}]`, s, Math.sqrt(v[s]!), `unconditional volatility sits on its upper bound sample sd × ${Math.sqrt(constraints.varianceMax).toPrecision(3)}`, 'unconditional volatility');
    if (model.nu[s]! < NU_MIN + DEGENERATE_RULES.nuTolerance) add(`nu[${s}]`, s, model.nu[s]!, `Student-t degrees of freedom sit on the floor ${NU_MIN} (variance barely finite)`, 'degrees of freedom');
    if (k > 1 && occupancy[s]! < input.minOccupancy) add(`occupancy[${s}]`, s, occupancy[s]!, `expected share of bars must be >= ${input.minOccupancy}: the state is hardly ever occupied`, 'mean filtered probability');
  }
  if (!positiveDefinite) {
    let worst = 0;
    for (let i = 1; i < p; i++) if (Math.abs(eigen.vectors[i * p]!) > Math.abs(eigen.vectors[worst * p]!)) worst = i;
    const [name, state] = thetaName(objective, worst, rank);
    reasons.push({ parameter: name, state, value: lambdaMin, rule: 'Hessian not positive definite', message: `\`${name}\` is not identified: the Hessian of the log-likelihood is not positive definite (smallest eigenvalue ${lambdaMin.toPrecision(3)}, whose direction loads most on this parameter)` });
  }
  return { diagnostics, reasons };
}

/** Name of unconstrained parameter `i` (canonical state indices). */
function thetaName(objective: MsGarchObjective, i: number, rank: Int32Array): [string, number] {
  const k = objective.states, b = objective.block;
  if (i < k * b) {
    const s = rank[Math.floor(i / b)]!, slot = i % b;
    const names = objective.mode === 'garch' ? ['mean', 'variance', 'alpha', 'beta', 'nu'] : ['mean', 'variance', 'nu'];
    return [`${names[slot]}[${s}]`, s];
  }
  const r = i - k * b, row = Math.floor(r / (k - 1)), c = r % (k - 1), col = c < row ? c : c + 1;
  return [`transition[${rank[row]}][${rank[col]}]`, rank[row]!];
}
