import { join } from 'node:path';
import { Command, Option } from 'commander';
import { AppError } from '../core/app-error.js';
import { loadConfig } from '../config/backtest-config.js';
import { formatModelCard, PACKAGE_FILES, publishModel, REGISTRY_ENV, sha256Hex, type ModelCard, type PublishedModel } from '../registry/index.js';
import { loadRlTrainConfig, runSacExperiment, sacOosMarkdown, SIZING_OBSERVATION_NAMES, SIZING_OBSERVATION_SPEC, type RlTrainConfig, type SacExperimentResult } from '../rl/index.js';
import { STRATEGIES } from '../strategies/index.js';
import { UNKNOWN_GIT_COMMIT } from '../training/index.js';
import { dbOption } from './cli-options.js';
import type { CliIo } from './output.js';
import { createProgress } from './progress.js';
import { withStore } from './store-session.js';
import { gitHead, preflightRegistry, writeAllAtomic } from './train-command.js';

/** A `tm train-rl` input the command refuses (exit 2). */
class TrainRlCliError extends AppError<'invalid_argument' | 'publish_failed'> {}

interface TrainRlFlags {
  config: string;
  db?: string;
  out: string;
  register?: string | boolean;
  trackingUri?: string;
  curveEvery: string;
}

const num = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : 'n/a');

/**
 * The actor package of each symbol: the LAST fold's actor (trained on every bar before the last test fold, minus the
 * purge), so its out-of-sample figures are the table's last fold; no extra training on the test bars. Card: the
 * observation names and spec as features, training range, OOS metrics of SAC and PURE_KELLY on the symbol, and one
 * gate: SAC's out-of-sample Sharpe >= PURE_KELLY's.
 */
function actorPackages(result: SacExperimentResult, config: RlTrainConfig, gitCommit: string): { symbol: string; card: ModelCard; onnxBytes: Uint8Array }[] {
  return result.symbols.map((s) => {
    const last = s.walkForward.folds.at(-1)!;
    const range = s.folds.at(-1)!;
    const rows = result.rows.filter((r) => r.symbol === s.symbol);
    const sharpe = (v: string) => rows.find((r) => r.variant === v)?.sharpe ?? Number.NaN;
    const metrics: Record<string, number> = {};
    for (const r of rows) {
      if (r.sharpe !== null) metrics[`oos_sharpe_${r.variant.toLowerCase()}`] = r.sharpe;
      metrics[`oos_total_return_${r.variant.toLowerCase()}`] = r.totalReturn;
      metrics[`oos_max_drawdown_${r.variant.toLowerCase()}`] = r.maxDrawdown;
      if (r.deflatedSharpeAll !== null) metrics[`oos_dsr_all_${r.variant.toLowerCase()}`] = r.deflatedSharpeAll;
    }
    const value = sharpe('SAC'), threshold = sharpe('PURE_KELLY');
    const card: ModelCard = {
      schemaVersion: 1,
      name: `${config.name}-${s.symbol}`,
      featureNames: [...SIZING_OBSERVATION_NAMES],
      featureSpecHash: SIZING_OBSERVATION_SPEC,
      onnxSha256: sha256Hex(last.actor),
      dataRange: { from: range.train[0], to: range.train[1] },
      metrics,
      gates: { passed: Number.isFinite(value) && Number.isFinite(threshold) && value >= threshold, checks: { oos_sharpe_vs_pure_kelly: { value: Number.isFinite(value) ? value : 0, threshold: Number.isFinite(threshold) ? threshold : 0, op: '>=', passed: Number.isFinite(value) && Number.isFinite(threshold) && value >= threshold } } },
      seed: config.seed,
      gitCommit,
    };
    return { symbol: s.symbol, card, onnxBytes: last.actor };
  });
}

/**
 * Builds `tm train-rl`: trains the SAC position sizer of an `experiments/rl/<name>.json` config over its
 * experiment's sizing pipeline with purged walk-forward folds, evaluates SAC vs PURE_KELLY vs flat out of sample
 * through the engine, and writes `<out>/<name>/<SYMBOL>/model.onnx` + `card.json` (the last fold's actor),
 * `<out>/<name>/oos.md`, `oos.json` (table, folds, learning curves). With `--register` (MLflow + S3 from the
 * environment) each actor is published and registered as `<model>.<SYMBOL>`.
 * @example tm train-rl --config experiments/rl/sac-momentum-4h.json --out experiments/research/results/rl
 */
export function trainRlCommand(io: CliIo, _setExit: (code: number) => void): Command {
  return new Command('train-rl')
    .description('train the SAC position sizer (curriculum, purged walk-forward folds) over an experiment; OOS table SAC vs PURE_KELLY vs flat with Deflated Sharpe; actor ONNX + card per symbol; optional MLflow registration')
    .requiredOption('--config <file>', 'RL training config, e.g. experiments/rl/sac-momentum-4h.json')
    .addOption(dbOption())
    .option('--out <dir>', 'output folder: files go to <out>/<name>/', 'models')
    .option('--register [model]', 'publish each actor to MLflow and register <model>.<SYMBOL> (default model: the config name); needs MLFLOW_TRACKING_URI and TM_S3_BUCKET')
    .addOption(new Option('--tracking-uri <url>', 'MLflow tracking server URL').env(REGISTRY_ENV.trackingUri))
    .option('--curve-every <steps>', 'learning-curve sampling period (environment steps)', '50')
    .action(async (opts: TrainRlFlags) => {
      const curveEvery = Number(opts.curveEvery);
      if (!Number.isInteger(curveEvery) || curveEvery < 1) throw new TrainRlCliError('invalid_argument', `--curve-every must be an integer >= 1, was ${JSON.stringify(opts.curveEvery)}`);
      const loaded = await loadRlTrainConfig(opts.config);
      if (!loaded.success) throw loaded.error;
      const config = loaded.data;
      const experimentLoaded = await loadConfig(config.experiment);
      if (!experimentLoaded.success) throw experimentLoaded.error;
      const experiment = experimentLoaded.data;
      const register = opts.register === undefined || opts.register === false ? undefined : opts.register === true ? config.name : opts.register;
      if (register !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(register)) throw new TrainRlCliError('invalid_argument', `--register must be letters, digits, ".", "_" or "-", was ${JSON.stringify(register)}`);
      const target = await preflightRegistry({ register, ...(opts.trackingUri ? { trackingUri: opts.trackingUri } : {}) });

      const symbols = config.symbols ?? experiment.data.symbols;
      const foldSteps = config.curriculum.stages.reduce((s, x) => s + x.steps, 0);
      const progress = createProgress(symbols.length * config.walkForward.folds * foldSteps, 'steps');
      const started = performance.now();
      const result = await withStore(
        opts.db,
        (store) =>
          runSacExperiment(config, experiment, { store, strategies: STRATEGIES }, {
            curveEvery,
            onProgress: (p) => {
              const done = (p.symbolIndex * p.folds + p.fold) * p.foldSteps + p.foldStep;
              if (p.foldStep % 10 !== 0 && p.foldStep !== p.foldSteps) return;
              const u = p.progress.update;
              progress.update(done, `${p.symbol} fold ${p.fold + 1}/${p.folds} stage ${p.progress.stage + 1} | episodes ${p.progress.episodes} reward ${num(p.progress.lastEpisodeReward)} | entropy ${num(u?.entropy ?? NaN)} | Q loss ${num(u?.criticLoss ?? NaN)}`);
            },
          }),
        { readOnly: true },
      ).finally(() => progress.stop());
      const seconds = (performance.now() - started) / 1000;

      const gitCommit = gitHead() ?? UNKNOWN_GIT_COMMIT;
      const packages = actorPackages(result, config, gitCommit);
      const dir = join(opts.out, config.name);
      const command = `tm train-rl --config ${opts.config} --out ${opts.out}`;
      const markdown = sacOosMarkdown(result, { config, command, seconds, experiment: config.experiment });
      const json = { name: config.name, config, experiment: config.experiment, seconds: Number(seconds.toFixed(1)), trials: result.trials, rows: result.rows, folds: result.symbols.map((s) => ({ symbol: s.symbol, folds: s.folds })), curve: result.curve };
      const outputs: { path: string; bytes: Uint8Array | string }[] = [];
      for (const p of packages) outputs.push({ path: join(dir, p.symbol, PACKAGE_FILES.onnx), bytes: p.onnxBytes }, { path: join(dir, p.symbol, PACKAGE_FILES.card), bytes: formatModelCard(p.card) });
      outputs.push({ path: join(dir, 'oos.md'), bytes: markdown }, { path: join(dir, 'oos.json'), bytes: JSON.stringify(json, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 1) + '\n' });

      let published: PublishedModel[] | undefined;
      if (target) {
        try {
          published = [];
          for (const p of packages) {
            published.push(
              await publishModel(target.client, target.objectStore, {
                experiment: `tm-train-rl-${config.name}`,
                runName: `${p.card.name}-${gitCommit.slice(0, 8)}`,
                card: p.card,
                onnxBytes: p.onnxBytes,
                ...(register !== undefined ? { registeredModel: `${register}.${p.symbol}` } : {}),
                params: { 'rl.config': opts.config, 'rl.experiment': config.experiment, 'rl.seed': String(config.seed), 'rl.hidden_sizes': config.sac.hiddenSizes.join(','), 'rl.batch_size': String(config.sac.batchSize), 'rl.folds': String(config.walkForward.folds), 'rl.curriculum': JSON.stringify(config.curriculum.stages).slice(0, 500) },
                metricHistory: result.curve
                  .filter((c) => c.symbol === p.symbol && c.fold === config.walkForward.folds - 1 && Number.isFinite(c.criticLoss))
                  .flatMap((c) => [
                    { key: 'critic_loss', value: c.criticLoss, step: c.step },
                    { key: 'entropy', value: c.entropy, step: c.step },
                    { key: 'temperature', value: c.temperature, step: c.step },
                    ...(Number.isFinite(c.episodeReward) ? [{ key: 'episode_reward', value: c.episodeReward, step: c.step }] : []),
                  ]),
              }),
            );
          }
        } catch (e) {
          throw new TrainRlCliError('publish_failed', `${opts.config}: training finished but publishing to MLflow failed: ${(e as Error).message}. Nothing was written locally (${dir}/ is as it was)`, { config: opts.config }, { cause: e });
        }
      }
      await writeAllAtomic(outputs);
      io.out(markdown);
      io.out(`wrote ${outputs.map((o) => o.path).join(', ')}`);
      if (published) io.out(`mlflow: ${published.map((p) => `run ${p.runId}${p.version ? ` version ${p.version}` : ''}`).join('; ')}`);
      else io.out(`mlflow: not logged (${REGISTRY_ENV.trackingUri} not set)`);
      io.out(`done in ${seconds.toFixed(1)} s`);
    });
}
