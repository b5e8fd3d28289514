import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseBacktestConfig } from '../config/backtest-config.js';
import { computeMetrics, simpleReturns } from '../backtest/index.js';
import type { MarketStore } from '../data/index.js';
import { trialConfigHash } from '../training/index.js';
import { applyPoint, encodeReturns, expandSweep, loadSweepConfig, SweepError, sweepIdOf, type SweepConfig, type TrialJob, type TrialResult } from '../sweep/index.js';
import { run } from './backtest-command.js';

/** A sweep ready to run: its config, id and one job per distinct trial configuration. */
export interface SweepPlan {
  readonly file: string;
  readonly config: SweepConfig;
  readonly sweepId: string;
  readonly jobs: readonly TrialJob[];
}

/**
 * Reads a sweep file and its base experiment and returns the trial jobs: the base with each point applied, checked
 * against the experiment schema (a point the schema refuses stops the sweep before anything runs), keyed by the hash
 * of the parsed experiment. Points that give the same experiment (e.g. a default written out) become one job.
 * @throws SweepError `io`, `invalid_json`, `invalid_config` (naming the sweep or the base file and the point).
 */
export async function planSweep(file: string): Promise<SweepPlan> {
  const config = await loadSweepConfig(file);
  const baseFile = resolve(dirname(file), config.base);
  let base: Record<string, unknown>;
  try {
    base = JSON.parse(await readFile(baseFile, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new SweepError('io', `${file}: $.base: cannot read the experiment ${baseFile}: ${(e as Error).message}`, { file, path: '$.base' }, { cause: e });
  }
  const baseParsed = parseBacktestConfig(base, baseFile);
  if (!baseParsed.success) throw baseParsed.error;
  const sweepId = sweepIdOf(config, base);
  const jobs: TrialJob[] = [];
  const seen = new Set<string>();
  for (const point of expandSweep(config.search)) {
    const experiment = applyPoint(base, point);
    const parsed = parseBacktestConfig(experiment, `${file} point ${JSON.stringify(point)}`);
    if (!parsed.success) throw new SweepError('invalid_config', parsed.error.message, { file, point }, { cause: parsed.error });
    const configHash = trialConfigHash(parsed.data);
    if (seen.has(configHash)) continue;
    seen.add(configHash);
    jobs.push({ sweepId, configHash, point, experiment });
  }
  return { file, config, sweepId, jobs };
}

/**
 * THE job function of every sweep path (sequential, local pool, BullMQ worker): parses the trial's experiment, checks
 * that it hashes to `job.configHash`, runs the backtest on `store` and returns its metrics and per-bar returns.
 * Deterministic: the same job on the same store contents returns the same result on any machine.
 * @throws SweepError `hash_mismatch`; ConfigError, ExperimentError, DataError, AppError `invalid_strategy_params`
 *   from the experiment (a job that throws is retried, then recorded failed with the message).
 */
export async function runTrial(job: TrialJob, store: MarketStore): Promise<TrialResult> {
  const label = `sweep ${job.sweepId} trial ${job.configHash} ${JSON.stringify(job.point)}`;
  const parsed = parseBacktestConfig(job.experiment, label);
  if (!parsed.success) throw parsed.error;
  const hash = trialConfigHash(parsed.data);
  if (hash !== job.configHash) {
    throw new SweepError('hash_mismatch', `${label}: the experiment hashes to ${hash} here, it was queued as ${job.configHash} (the worker runs other code or schema defaults than the machine that queued it)`, { configHash: job.configHash, hash });
  }
  const result = await run(store, label, parsed.data);
  const m = computeMetrics(result);
  return {
    configHash: job.configHash,
    point: job.point,
    metrics: {
      sharpe: m.sharpe,
      sortino: m.sortino,
      totalReturn: m.totalReturn,
      cagr: m.cagr,
      calmar: m.calmar,
      maxDrawdown: m.maxDrawdown,
      annualVolatility: m.annualVolatility,
      tradeCount: m.tradeCount,
      finalEquity: m.finalEquity,
      bars: m.bars,
    },
    returns: encodeReturns(simpleReturns(result.equity.value)),
    startMs: m.startMs,
  };
}
