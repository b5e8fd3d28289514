import { Command } from 'commander';
import { AppError } from '../core/app-error.js';
import { formatUtc, parseUserTime } from '../core/time.js';
import { DEFAULT_FEATURE_SPEC, FeaturePipeline } from '../features/index.js';
import { predictRange } from '../signals/predict-range.js';
import { dbOption } from './cli-options.js';
import { loadPackage } from './model-packages.js';
import { formatTable, type CliIo } from './output.js';
import { withStore } from './store-session.js';

interface PredictFlags {
  model: string;
  from: string;
  to: string;
  venue: string;
  symbols: string;
  timeframe: string;
  fundingVenue?: string;
  reference?: string;
  dvol: boolean;
  allowInSample?: boolean;
  allowUngated?: boolean;
  db?: string;
  json?: boolean;
}

/**
 * Builds `tm predict`: runs a trained model package over a window it may never have seen, through the signal stage
 * (bar by bar: incremental features → ONNX), and writes the predictions, tagged with the model's name and version,
 * to the store's predictions table. Refuses a window overlapping the training range (`--allow-in-sample`) and a model
 * whose gates failed (`--allow-ungated`).
 * @example tm predict --model models/gbdt-transfer --from 2025-06-01 --to 2025-09-01
 */
export function predictCommand(io: CliIo, _setExit: (code: number) => void): Command {
  return new Command('predict')
    .description('run a trained model package over a date range through the signal stage and write its predictions (tagged model + version) to the store')
    .requiredOption('--model <ref>', 'a model package folder (model.onnx + card.json; per-symbol packages in <dir>/<SYMBOL>/ are used for their symbol) or <name>@<alias> (4-tier loader: MLflow alias, run, S3, local TM_MODELS_DIR) or <name>/<version> (that registered version: MLflow, its S3 copy, local TM_MODELS_DIR/<name>/<version>)')
    .requiredOption('--from <date>', 'first bar open time, UTC (e.g. 2025-06-01)')
    .requiredOption('--to <date>', 'end (exclusive), UTC')
    .option('--venue <venue>', 'price venue of the bars', 'binance-spot')
    .option('--symbols <list>', 'comma-separated symbols', 'BTCUSDT,ETHUSDT,SOLUSDT')
    .option('--timeframe <tf>', 'bar timeframe', '4h')
    .option('--funding-venue <venue>', 'venue of the funding settlements the funding features read', 'binance-futures')
    .option('--reference <symbol>', 'cross-asset reference symbol', 'BTCUSDT')
    .option('--no-dvol', 'do not read Deribit DVOL (DVOL features are then NaN)')
    .option('--allow-in-sample', 'run on a window overlapping the model’s training range')
    .option('--allow-ungated', 'run a model whose quality gates failed')
    .option('--json', 'print the result as JSON')
    .addOption(dbOption())
    .action(async (opts: PredictFlags) => {
      const from = parseUserTime(opts.from, '--from');
      const to = parseUserTime(opts.to, '--to');
      if (!(to > from)) throw new AppError('invalid_arguments', `--to must be after --from (${opts.from}), was ${JSON.stringify(opts.to)}`, { from: opts.from, to: opts.to });
      const symbols = opts.symbols.split(',').map((s) => s.trim()).filter((s) => s !== '');
      const pipeline = FeaturePipeline.fromSpec(DEFAULT_FEATURE_SPEC);
      const packages = await Promise.all(symbols.map((symbol) => loadPackage(opts.model, symbol, pipeline)));
      try {
        const result = await withStore(opts.db, async (store) => {
          const series = await predictRange(store, pipeline, {
            venue: opts.venue, symbols, timeframe: opts.timeframe, from, to, dvol: opts.dvol,
            ...(opts.fundingVenue !== undefined ? { fundingVenue: opts.fundingVenue } : {}),
            ...(opts.reference !== undefined ? { reference: opts.reference } : {}),
            models: packages.map((p) => ({ model: p.model, card: { name: p.card.name, dataRange: p.card.dataRange, gatesPassed: p.card.gates.passed } })),
            allowInSample: opts.allowInSample === true,
            allowUngated: opts.allowUngated === true,
          });
          await store.transaction(async () => {
            for (const [k, s] of series.entries()) {
              const p = packages[k]!;
              await store.upsertPredictions({ model: p.card.name, modelVersion: p.version, venue: opts.venue, symbol: s.symbol, timeframe: opts.timeframe, featureSpecHash: p.card.featureSpecHash }, s.ts, s.prediction);
            }
          });
          return series;
        });
        const rows = result.map((s, k) => ({
          symbol: s.symbol,
          model: packages[k]!.card.name,
          version: packages[k]!.version,
          rows: s.ts.length,
          first: formatUtc(s.ts[0]!),
          last: formatUtc(s.ts[s.ts.length - 1]!),
          warmup_bars: s.warmupBars,
          flags: [s.inSample ? 'IN-SAMPLE' : '', s.ungated ? 'UNGATED' : ''].filter((x) => x).join(' '),
        }));
        if (opts.json) io.out(JSON.stringify(rows, null, 2));
        else io.out(formatTable(rows));
      } finally {
        for (const p of packages) await p.model.close();
      }
    });
}

