import { formatUtc } from '../core/time.js';
import { exportOnnx, type TreeEnsembleModel } from '../models/index.js';
import { ModelCard, sha256Hex, type MetricPoint } from '../registry/index.js';
import { CONFIGURATIONS, type TrainConfig } from './train-config.js';
import type { TrainingData } from './training-data.js';
import { ALL_SYMBOLS, type FinalModels, type GateResult, type SignalScore, type WalkForwardResult } from './walk-forward.js';

/** Git commit recorded when the working copy is not a git repository: git's null object id (the card needs hex). */
export const UNKNOWN_GIT_COMMIT = '0'.repeat(40);

/** A model package to write (`model.onnx` + `card.json`) under `models/<name>/<dir>`. */
export interface ModelPackage {
  /** Sub-folder of `models/<name>/`: '' for the primary package, the symbol for a per-symbol one. */
  readonly dir: string;
  readonly onnxBytes: Uint8Array;
  readonly card: ModelCard;
  /** Symbol a per-symbol package serves (absent for the primary package). */
  readonly symbol?: string;
}

const finite = (out: Record<string, number>, key: string, value: number | null | undefined) => {
  if (value !== null && value !== undefined && Number.isFinite(value)) out[key] = value;
};

function scoreMetrics(out: Record<string, number>, prefix: string, s: SignalScore): void {
  finite(out, `${prefix}.ic`, s.ic);
  finite(out, `${prefix}.p_value`, s.pValue);
  finite(out, `${prefix}.hit_rate`, s.hitRate);
  finite(out, `${prefix}.sharpe`, s.sharpe);
  finite(out, `${prefix}.total_return`, s.totalReturn);
  finite(out, `${prefix}.trades`, s.tradeCount);
}

/**
 * Returns the card metrics (all out-of-sample, non-finite values omitted): `oos.<configuration>.<SYMBOL|ALL>.<metric>`
 * (ic, p_value, hit_rate, sharpe, total_return, trades, dsr), `fold.<k>.<configuration>.<SYMBOL|ALL>.<metric>`, the fold
 * layout `fold.<k>.test_start_ms|test_end_ms|train_rows|feature_count`, and `walk_forward.*` (folds, label horizon, purge,
 * embargo, trials, sharpe variance). With `metaLabel`: `oos.<final>+meta.<SYMBOL|ALL>.<metric>`, `meta_label.threshold`,
 * `meta_label.bet_rate` and `meta_label.in_package` = 0 (the filter is evaluated, not exported).
 */
export function cardMetrics(wf: WalkForwardResult, data: TrainingData): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of CONFIGURATIONS) {
    for (const [key, s] of Object.entries(wf.overall[c])) {
      scoreMetrics(out, `oos.${c}.${key}`, s);
      finite(out, `oos.${c}.${key}.dsr`, s.dsr);
    }
  }
  for (const f of wf.folds) {
    const k = f.plan.index;
    out[`fold.${k}.test_start_ms`] = data.ts[f.plan.testStart]!;
    out[`fold.${k}.test_end_ms`] = data.ts[f.plan.testEnd - 1]! + data.timeframeMs;
    out[`fold.${k}.train_rows`] = Object.values(f.trainRowsBySymbol).reduce((a, b) => a + b, 0);
    out[`fold.${k}.feature_count`] = f.selection.indices.length;
    for (const c of CONFIGURATIONS) for (const [key, s] of Object.entries(f.scores[c])) scoreMetrics(out, `fold.${k}.${c}.${key}`, s);
  }
  const first = wf.folds[0]!.plan;
  out['walk_forward.folds'] = wf.folds.length;
  out['walk_forward.label_horizon'] = data.horizon;
  out['walk_forward.purge_gap'] = first.purgeGap;
  out['walk_forward.embargo'] = first.embargo;
  out['walk_forward.trials'] = wf.trials.count;
  const meta = wf.metaLabel;
  if (meta) {
    // the meta-labelled signal is scored, not packaged: the exported ONNX is the primary model (in_package 0)
    for (const [key, s] of Object.entries(meta.overall)) {
      scoreMetrics(out, `oos.${meta.configuration}+meta.${key}`, s);
      finite(out, `oos.${meta.configuration}+meta.${key}.dsr`, s.dsr);
    }
    out['meta_label.threshold'] = meta.threshold;
    finite(out, 'meta_label.bet_rate', meta.betRate);
    out['meta_label.in_package'] = 0;
  }
  finite(out, 'walk_forward.sharpe_variance', wf.trials.sharpeVariance);
  return out;
}

/** Returns per-fold metric points (`wf.<configuration>.<SYMBOL|ALL>.<metric>`, step = fold index) for MLflow. */
export function foldMetricHistory(wf: WalkForwardResult): MetricPoint[] {
  const points: MetricPoint[] = [];
  for (const f of wf.folds) {
    for (const c of CONFIGURATIONS) {
      for (const [key, s] of Object.entries(f.scores[c])) {
        const m: Record<string, number> = {};
        scoreMetrics(m, `wf.${c}.${key}`, s);
        for (const [name, value] of Object.entries(m)) points.push({ key: name, value, step: f.plan.index });
      }
    }
  }
  return points;
}

/** Card gates from a gate result (a missing Sharpe is recorded as 0, failed). `passed` uses the strict rules p < max, Sharpe > min. */
export function cardGates(g: GateResult): ModelCard['gates'] {
  const v = (x: number) => (Number.isFinite(x) ? x : 0);
  return {
    passed: g.passed,
    checks: {
      ic: { value: v(g.ic.value), threshold: g.ic.threshold, op: '>=', passed: g.ic.passed },
      p_value: { value: v(g.pValue.value), threshold: g.pValue.threshold, op: '<=', passed: g.pValue.passed },
      sharpe: { value: v(g.sharpe.value), threshold: g.sharpe.threshold, op: '>=', passed: g.sharpe.passed },
    },
  };
}

/**
 * Builds the model packages of a training run: the primary package (`final.primary`, gates = the final
 * configuration's overall result on all symbols) and, for `per-symbol` / `transfer`, one package per symbol (`<name>.<SYMBOL>`,
 * gates = that symbol's result). Every ONNX reads the full pipeline row (names and spec hash of `data`), carries no
 * timestamp (same inputs → same bytes) and records the configuration and selected features in its metadata.
 */
export function buildModelPackages(data: TrainingData, config: TrainConfig, wf: WalkForwardResult, final: FinalModels, gitCommit: string): ModelPackage[] {
  const metrics = cardMetrics(wf, data);
  const dataRange = { from: formatUtc(data.ts[0]!), to: formatUtc(data.ts[data.ts.length - 1]! + data.timeframeMs) };
  const make = (name: string, model: TreeEnsembleModel, gates: GateResult, role: string): { onnxBytes: Uint8Array; card: ModelCard } => {
    const onnxBytes = exportOnnx(model, {
      featureNames: data.featureNames,
      featureSpecHash: data.featureSpecHash,
      metadata: { model_name: name, configuration: config.final, role, selected_features: JSON.stringify(final.selection.names), label_horizon: String(data.horizon) },
    });
    const card = ModelCard.parse({
      schemaVersion: 1,
      name,
      featureNames: [...data.featureNames],
      featureSpecHash: data.featureSpecHash,
      onnxSha256: sha256Hex(onnxBytes),
      dataRange,
      metrics,
      gates: cardGates(gates),
      seed: config.seed,
      gitCommit,
    });
    return { onnxBytes, card };
  };
  const overall = wf.overall[config.final];
  const primaryRole = config.final === 'random-forest' ? 'random-forest' : config.final === 'pooled' ? 'pooled' : 'pooled-base';
  const packages: ModelPackage[] = [{ dir: '', ...make(config.name, final.primary, overall[ALL_SYMBOLS]!.gates, primaryRole) }];
  for (const [symbol, model] of Object.entries(final.perSymbol)) {
    packages.push({ dir: symbol, symbol, ...make(`${config.name}.${symbol}`, model, overall[symbol]!.gates, config.final) });
  }
  return packages;
}

/**
 * Returns the training report (`training-report.json`): config, data, folds with Boruta and selection, every score,
 * DSR trials, gates, final selection; `trainedAt` and `gitCommit` as given (the card's commit is hex, this one may be
 * `unknown`). Everything except `trainedAt` is a function of the inputs.
 */
export function trainingReport(data: TrainingData, config: TrainConfig, wf: WalkForwardResult, final: FinalModels, meta: { gitCommit: string; trainedAt: string }): Record<string, unknown> {
  return {
    name: config.name,
    trainedAt: meta.trainedAt,
    gitCommit: meta.gitCommit,
    config,
    data: {
      venue: data.venue,
      timeframe: data.timeframe,
      symbols: data.symbols.map((s) => s.symbol),
      from: formatUtc(data.ts[0]!),
      to: formatUtc(data.ts[data.ts.length - 1]! + data.timeframeMs),
      rows: data.ts.length,
      featureSpecHash: data.featureSpecHash,
      featureNames: data.featureNames,
      labelHorizon: data.horizon,
    },
    oos: { from: formatUtc(data.ts[wf.oosRange.from]!), to: formatUtc(data.ts[wf.oosRange.to - 1]! + data.timeframeMs) },
    folds: wf.folds.map((f) => ({
      plan: f.plan,
      trainRowsBySymbol: f.trainRowsBySymbol,
      selection: f.selection,
      boruta: { ...f.boruta, features: f.boruta.features },
      importance: f.importance,
      scores: f.scores,
    })),
    overall: wf.overall,
    ...(wf.metaLabel
      ? {
          metaLabel: {
            configuration: wf.metaLabel.configuration,
            threshold: wf.metaLabel.threshold,
            betRate: wf.metaLabel.betRate,
            overall: wf.metaLabel.overall,
            folds: wf.folds.map((f) => f.meta),
            note: `meta-labelling evaluated in the walk-forward only: ${config.final}'s out-of-sample predictions filtered by a per-fold meta model (trained on that fold's training rows) are scored as extra trials and written to the store as ${config.name}@${config.predictionsVersion}-meta; the exported ONNX is the primary model, and the gates judge it`,
          },
        }
      : {}),
    trials: wf.trials,
    final: {
      configuration: config.final,
      promotable: wf.overall[config.final][ALL_SYMBOLS]!.gates.passed,
      selection: final.selection,
      boruta: final.boruta,
      importance: final.importance,
      trainRowsBySymbol: final.trainRowsBySymbol,
    },
  };
}
