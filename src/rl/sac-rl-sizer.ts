import type { RlProposal, RlSizer, RlSizerState } from '../sizing/index.js';
import { ActorNetwork, type ActorWeights } from './actor-network.js';
import { invalidRlInput } from './rl-error.js';
import { SizingObservation } from './sizing-observation.js';

/** Gauss–Hermite nodes and weights (8 points, for ∫ e^{−x²} f(x) dx). */
const HERMITE_X = [-2.930637420257244, -1.981656756695843, -1.157193712446780, -0.381186990207322, 0.381186990207322, 1.157193712446780, 1.981656756695843, 2.930637420257244];
const HERMITE_W = [1.996040722113676e-4, 1.707798300741348e-2, 2.078023258148919e-1, 6.611470125582413e-1, 6.611470125582413e-1, 2.078023258148919e-1, 1.707798300741348e-2, 1.996040722113676e-4];
/** Standard deviation of the uniform distribution on [0, 1]: the spread of a policy that knows nothing. */
const UNIFORM_STD = 1 / Math.sqrt(12);

/**
 * The SAC actor as the cascade's {@link RlSizer}, evaluated by the allocation-free {@link ActorNetwork} (whose output
 * the ONNX parity test checks against onnxruntime on the exported graph; `propose` is synchronous, which an
 * onnxruntime session is not).
 *
 * Action: the actor's deterministic action tanh(μ(s)) ∈ [−1, 1] is mapped to a = (tanh(μ(s)) + 1) / 2 ∈ [0, 1], the
 * share of the Kelly size to hold, and the proposed fraction is a · f_kelly: the sign is the signal's (through Kelly),
 * and RL can shrink the Kelly position, never exceed or reverse it. Chosen so the learned part is one bounded,
 * 1-dimensional risk dial that cannot take more risk than the Kelly tier it falls back to.
 *
 * Confidence (the policy's standard deviation, not the twin-Q disagreement, which would need the critics at
 * inference): 1 − min(1, sd(a | s) / sd(U[0, 1])), where sd(a | s) is the standard deviation of the squashed policy
 * a = (tanh(μ + σ ε) + 1) / 2, ε ~ N(0, 1), computed by 8-point Gauss–Hermite quadrature. A policy as spread out as a
 * uniform guess has confidence 0; a deterministic one 1. With several action dimensions the first is used.
 * @example
 * const actor = readActorOnnx(bytes, { observationNames: SIZING_OBSERVATION_NAMES, observationSpecHash: SIZING_OBSERVATION_SPEC });
 * const sizer = new SacRlSizer(actor.weights, { name: 'sac-v1' });
 */
export class SacRlSizer implements RlSizer {
  readonly name: string;
  private readonly actor: ActorNetwork;
  private readonly observation = new SizingObservation();
  private readonly input: Float32Array;
  /** The state last passed to {@link observe} (propose does not count it twice). */
  private observed: RlSizerState | undefined;

  /** @throws RlError `invalid_input` when the actor's observation size is not the sizing observation's. */
  constructor(weights: ActorWeights, options: { readonly name: string }) {
    if (weights.observationSize !== this.observation.size) invalidRlInput('weights.observationSize', `equal the sizing observation's ${this.observation.size} columns`, weights.observationSize);
    this.name = options.name;
    this.actor = new ActorNetwork(weights);
    this.input = new Float32Array(this.observation.size);
  }

  /** Advances the observation (path state) with every decision's state, also while the breaker keeps RL out. */
  observe(state: RlSizerState): void {
    this.observation.update(state, this.input);
    this.observed = state;
  }

  propose(state: RlSizerState): RlProposal {
    if (this.observed !== state) this.observation.update(state, this.input);
    this.observed = undefined;
    this.actor.forward(this.input);
    const share = (this.actor.action[0]! + 1) / 2;
    const kelly = state.kellyFraction;
    return { fraction: kelly === kelly ? share * kelly : 0, confidence: policyConfidence(this.actor.mean[0]!, Math.exp(this.actor.logStd[0]!)) };
  }
}

/**
 * Returns 1 − min(1, sd(a) / sd(U[0, 1])) for a = (tanh(μ + σ ε) + 1) / 2, ε ~ N(0, 1) (8-point Gauss–Hermite).
 * @example policyConfidence(0.5, 0.05) // ≈ 0.93
 */
export function policyConfidence(mean: number, std: number): number {
  let m1 = 0, m2 = 0;
  const scale = Math.SQRT2 * std;
  for (let i = 0; i < 8; i++) {
    const a = (Math.tanh(mean + scale * HERMITE_X[i]!) + 1) / 2;
    m1 += HERMITE_W[i]! * a;
    m2 += HERMITE_W[i]! * a * a;
  }
  m1 /= Math.sqrt(Math.PI);
  m2 /= Math.sqrt(Math.PI);
  const sd = Math.sqrt(Math.max(0, m2 - m1 * m1));
  const c = 1 - sd / UNIFORM_STD;
  return c > 0 ? c : 0;
}
