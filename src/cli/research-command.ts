import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { AppError } from '../core/app-error.js';
import { writeFileDurable } from '../core/durable-file.js';
import { FeaturePipeline } from '../features/index.js';
import { loadModelTableConfig, loadTrainingData, modelTableMarkdown, runModelTable, trainFeatureSpec, type ExternalLearner, type ExternalLearnerInput, type TrialRecord } from '../training/index.js';
import { dbOption } from './cli-options.js';
import type { CliIo } from './output.js';
import { createProgress } from './progress.js';
import { withStore } from './store-session.js';

/** A `tm research` input or external step that failed (exit 2). */
class ResearchCliError extends AppError<'invalid_argument' | 'python_failed'> {}

interface ModelTableFlags {
  config: string;
  db?: string;
  out: string;
  xgboost?: boolean;
  python: string;
  ledger?: string;
}

/**
 * XGBoost trained by python/models/xgb_cpcv.py on the same pooled CPCV splits: the design goes to a temp folder as
 * float64 files, the script writes the test predictions back. `missing: 'right'` sends missing values always to the
 * greater-than branch, as the project's trees do (`learned`: XGBoost's own default directions).
 */
export function pythonXgboost(python: string, missing: 'learned' | 'right' = 'learned', script = resolve('python/models/xgb_cpcv.py')): ExternalLearner {
  return {
    key: missing === 'learned' ? 'xgboost' : 'xgboost-nan-right',
    name: missing === 'learned' ? 'XGBoost' : 'XGBoost NaN→right',
    async fitPredict(input: ExternalLearnerInput): Promise<Float64Array[]> {
      const dir = await mkdtemp(join(tmpdir(), 'tm-xgb-'));
      try {
        const rows = input.symbols * input.rows;
        const meta = { rows, columns: input.featureNames.length, seed: input.seed, gbdt: input.gbdt, splits: input.splits.map((s) => ({ train: Array.from(s.train), test: Array.from(s.test) })) };
        await writeFile(join(dir, 'meta.json'), JSON.stringify(meta));
        await writeFile(join(dir, 'features.f64'), new Uint8Array(input.features.buffer, input.features.byteOffset, input.features.byteLength));
        await writeFile(join(dir, 'target.f64'), new Uint8Array(input.target.buffer, input.target.byteOffset, input.target.byteLength));
        await new Promise<void>((done, fail) => {
          const child = spawn(python, [script, '--dir', dir, '--missing', missing], { stdio: ['ignore', 'ignore', 'pipe'] });
          let text = '';
          child.stderr.on('data', (b: Buffer) => (text += b.toString()));
          child.on('error', (e) => fail(new ResearchCliError('python_failed', `cannot start ${python} (set --python or TM_PYTHON to the project venv's python with python/requirements-models.txt installed): ${e.message}`, { python }, { cause: e })));
          child.on('close', (code) => (code === 0 ? done() : fail(new ResearchCliError('python_failed', `${script} exited with ${code}: ${text.trim().split('\n').slice(-3).join(' | ')}`, { python, code }))));
        });
        const bytes = await readFile(join(dir, 'predictions.f64'));
        const all = new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
        const out: Float64Array[] = [];
        let at = 0;
        for (const s of input.splits) { out.push(all.slice(at, at + s.test.length)); at += s.test.length; }
        if (at !== all.length) throw new ResearchCliError('python_failed', `${script} wrote ${all.length} predictions, expected ${at}`, { written: all.length, expected: at });
        return out;
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

/** Reads a JSON-lines trial ledger (absent file = empty). */
function readLedger(file: string): TrialRecord[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '').map((line, i) => {
    const r = JSON.parse(line) as TrialRecord;
    if (typeof r.configHash !== 'string' || typeof r.sharpe !== 'number' || typeof r.observations !== 'number') throw new ResearchCliError('invalid_argument', `${file}:${i + 1}: a ledger line needs configHash (string), sharpe and observations (numbers)`, { file, line: i + 1 });
    return r;
  });
}

/**
 * Builds `tm research`: `model-table` runs the CPCV model table of a config on the store's data and writes
 * `<out>` (Markdown) and `<out>.json` (without the .md suffix) — see `runModelTable`.
 * @example tm research model-table --config experiments/model-table-4h.json --out experiments/results/model-table.md --xgboost
 */
export function researchCommand(io: CliIo, _setExit: (code: number) => void): Command {
  const research = new Command('research').description('research tables: the CPCV model table (Sharpe distribution, PBO, DSR from the ledger, meta-labelling, ridge baseline, XGBoost learner gap)');
  research
    .command('model-table')
    .description(
      'combinatorial purged CV of pooled / per-symbol / transfer GBDT and RF, each with and without meta-labelling (triple barrier), plus ridge (and XGBoost with --xgboost): per-path engine backtests -> Sharpe median and 5-95 %, IC, PBO, DSR; writes Markdown + JSON',
    )
    .requiredOption('--config <file>', 'model-table config, e.g. experiments/model-table-4h.json')
    .addOption(dbOption())
    .requiredOption('--out <file.md>', 'Markdown output; the JSON goes next to it (<name>.json)')
    .option('--xgboost', 'also train XGBoost (python/models/xgb_cpcv.py) on the same splits, with its own missing-value handling and with the project trees\' (NaN -> greater-than branch), and report the learner gap')
    .addOption(new Option('--python <path>', 'python with python/requirements-models.txt installed').env('TM_PYTHON').default('.venv/bin/python'))
    .option('--ledger <file.jsonl>', 'trial ledger: earlier trials count in the DSR; this run\'s trials are appended')
    .action(async (opts: ModelTableFlags) => {
      if (!opts.out.endsWith('.md')) throw new ResearchCliError('invalid_argument', `--out must end in .md, was ${JSON.stringify(opts.out)}`, { out: opts.out });
      const loaded = await loadModelTableConfig(opts.config);
      if (!loaded.success) throw loaded.error;
      const config = loaded.data;
      const prior = opts.ledger ? readLedger(opts.ledger) : [];
      const started = performance.now();
      let progress: ReturnType<typeof createProgress> | undefined;
      const result = await withStore(
        opts.db,
        async (store) => {
          const data = await loadTrainingData(store, config.train, FeaturePipeline.fromSpec(trainFeatureSpec(config.train)));
          return runModelTable(data, config, {
            priorLedger: prior,
            ...(opts.xgboost ? { externals: [pythonXgboost(opts.python, 'learned'), pythonXgboost(opts.python, 'right')] } : {}),
            onProgress: (done, total, label) => {
              progress ??= createProgress(total, 'steps');
              progress.update(done, label);
            },
          });
        },
        { readOnly: true },
      ).finally(() => progress?.stop());
      const command = `tm research model-table --config ${opts.config} --out ${opts.out}${opts.xgboost ? ' --xgboost' : ''}`;
      const markdown = modelTableMarkdown(result, command);
      writeFileDurable(opts.out, markdown);
      const jsonFile = opts.out.replace(/\.md$/, '.json');
      writeFileDurable(jsonFile, `${JSON.stringify({ ...result, config }, null, 1)}\n`);
      if (opts.ledger) {
        const lines = result.ledger.slice(prior.length).map((r) => JSON.stringify(r)).join('\n');
        writeFileDurable(opts.ledger, (existsSync(opts.ledger) ? readFileSync(opts.ledger, 'utf8') : '') + lines + '\n');
      }
      io.out(markdown);
      io.out(`wrote ${opts.out} and ${jsonFile} in ${((performance.now() - started) / 1000).toFixed(0)} s`);
    });
  return research;
}
