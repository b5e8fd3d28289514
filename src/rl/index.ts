/**
 * Reinforcement-learning position sizing: a Soft Actor-Critic agent in `@tensorflow/tfjs` (cpu backend), its
 * seeded typed-array replay buffer and training loop over a steppable {@link Environment}, the ONNX export of the
 * actor (Gemm/Relu/Tanh, with the clipped log std as a second output), and {@link SacRlSizer}: the exported actor as
 * the sizing cascade's `RlSizer` (action = share of the Kelly size in [0, 1] times the signal's sign; confidence
 * from the policy's standard deviation).
 *
 * Determinism: every random draw (weights, exploration, policy noise, replay sampling) derives from `SacConfig.seed`;
 * the same seed and environment give byte-identical weights.
 * @example
 * const agent = await createSacAgent(unwrap(parseSacConfig({ seed: 7 })), env);
 * trainSac(env, agent, { steps: 100_000 });
 * const bytes = exportActorOnnx(agent.actorWeights(), { observationNames: SIZING_OBSERVATION_NAMES, observationSpecHash: SIZING_OBSERVATION_SPEC });
 * const sizer = new SacRlSizer(readActorOnnx(bytes, { observationNames: SIZING_OBSERVATION_NAMES, observationSpecHash: SIZING_OBSERVATION_SPEC }).weights, { name: 'sac-v1' });
 */
export { RlError, type RlErrorCode } from './rl-error.js';
export { parseSacConfig, SacConfig, type SacConfigInput } from './sac-config.js';
export { ReplayBuffer, type ReplayBatch } from './replay-buffer.js';
export { createSacAgent, SacAgent, type SacUpdateStats } from './sac-agent.js';
export { trainSac, type Environment, type EnvironmentStep, type SacProgress } from './sac-trainer.js';
export { ActorNetwork, type ActorWeights, type DenseWeights } from './actor-network.js';
export { ACTOR_ACTION_NAME, ACTOR_FORMAT, ACTOR_INPUT_NAME, ACTOR_LOG_STD_NAME, exportActorOnnx, readActorOnnx, type ActorOnnx, type ActorOnnxOptions } from './actor-onnx.js';
export { SIZING_OBSERVATION_NAMES, SIZING_OBSERVATION_SPEC, SizingObservation } from './sizing-observation.js';
export { policyConfidence, SacRlSizer } from './sac-rl-sizer.js';
export { SizingEnvironment, SizingEnvironmentConfig, type SizingEnvironmentOptions } from './env/sizing-environment.js';
export { CurriculumConfig, episodes, episodeSpec, parseCurriculumConfig, ScaledFeeModel, trainCurriculum, type CurriculumProgress, type Episode, type EpisodeSet } from './env/curriculum.js';
export { deflatedSharpes, SIZER_VARIANTS, walkForwardSac, type SacFold, type SacWalkForwardOptions, type SacWalkForwardResult, type SizerScore, type SizerVariant } from './walk-forward-sac.js';
export { loadRlTrainConfig, parseRlTrainConfig, RlTrainConfig } from './rl-train-config.js';
export { runSacExperiment, sacOosMarkdown, type LearningCurvePoint, type SacExperimentOptions, type SacExperimentProgress, type SacExperimentResult, type SacExperimentSymbol, type SacOosRow } from './sac-experiment.js';
