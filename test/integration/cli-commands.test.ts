/**
 * The commands a new user reaches for: every command has --help and the summary `tm --help` shows; `tm backtest`
 * overrides (--from/--to/--set) and --json; `tm report`; `tm experiments ls`; `tm strategies ls`; `tm runs ls`
 * (real MLflow); `tm doctor`. In-process through main(), on a store holding the binance-spot 4h and binance-futures
 * funding files of the shared data.
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/main.js';
import { importPath, MarketStore } from '../../src/data/index.js';
import { MlflowClient, parseMlflowClientConfig } from '../../src/registry/index.js';
import { tm } from '../support/cli.js';
import { sharedDataDir, tempDir } from '../support/shared-data.js';

const dir = tempDir('tm-cli-commands-');
const db = join(dir, 'market.duckdb');
const experiments = join(dir, 'experiments');

beforeAll(async () => {
  const data = join(dir, 'data');
  for (const [venue, files] of [
    ['binance-spot', ['BTCUSDT-4h.csv.gz', 'ETHUSDT-4h.csv.gz', 'SOLUSDT-4h.csv.gz']],
    ['binance-futures', ['BTCUSDT-funding.csv.gz', 'ETHUSDT-funding.csv.gz', 'SOLUSDT-funding.csv.gz']],
  ] as const) {
    mkdirSync(join(data, venue), { recursive: true });
    for (const f of files) symlinkSync(join(sharedDataDir(), venue, f), join(data, venue, f));
  }
  const store = await MarketStore.open(db);
  try {
    await importPath(store, data);
  } finally {
    store.close();
  }
  mkdirSync(join(experiments, 'baselines'), { recursive: true });
  copyFileSync('experiments/sma-crossover.json', join(experiments, 'sma-crossover.json'));
  copyFileSync('experiments/buy-and-hold.json', join(experiments, 'buy-and-hold.json'));
  copyFileSync('experiments/baselines/sma-crossover.json', join(experiments, 'baselines', 'sma-crossover.json'));
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('tm --help and every command', () => {
  it('lists every command with its summary, and each loaded command carries that summary and answers --help', async () => {
    const help = await tm('--help');
    expect(help.code).toBe(0);
    for (const entry of COMMANDS) expect(help.out.replace(/\s+/g, ' ')).toContain(`${entry.name} ${entry.summary}`);
    const names: string[][] = [];
    for (const entry of COMMANDS) {
      const command: Command = (await entry.load())({ out: () => undefined, err: () => undefined }, () => undefined);
      expect(command.name()).toBe(entry.name);
      expect(command.description()).toBe(entry.summary);
      names.push([entry.name]);
      for (const sub of command.commands) names.push([entry.name, sub.name()]);
    }
    for (const path of names) {
      const r = await tm(...path, '--help');
      expect(r.code, path.join(' ')).toBe(0);
      expect(r.out, path.join(' ')).toMatch(new RegExp(`^Usage: tm ${path.join(' ')} `));
    }
    expect(names.map((p) => p.join(' '))).toEqual(expect.arrayContaining(['report', 'experiments ls', 'strategies ls', 'runs ls', 'doctor', 'data fetch']));
  });
});

describe('tm backtest overrides and --json', () => {
  it('--from/--to/--set change the run, are recorded in the summary config, and --json prints metrics and paths', async () => {
    const out = join(dir, 'override');
    const r = await tm('backtest', '--config', join(experiments, 'sma-crossover.json'), '--from', '2024-01-01', '--to', '2024-07-01', '--set', 'params.fast=10', '--set', 'leverage=1', '--db', db, '--out', out, '--json');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out) as { name: string; overrides: string[]; metrics: { tradeCount: number; sharpe: number | null }; summary: string; report: string };
    expect(json.name).toBe('sma-crossover');
    expect(json.overrides).toEqual(['data.start=2024-01-01', 'data.end=2024-07-01', 'params.fast=10', 'leverage=1']);
    expect(json.metrics.tradeCount).toBeGreaterThan(0);
    expect(json.report).toBe(join(out, 'report.html'));
    const summary = JSON.parse(readFileSync(json.summary, 'utf8')) as { config: { data: { start: string; end: string }; params: { fast: number }; leverage: number }; period: { start: string } };
    expect(summary.config.data).toMatchObject({ start: '2024-01-01', end: '2024-07-01' });
    expect(summary.config.params.fast).toBe(10);
    expect(summary.config.leverage).toBe(1);
    expect(summary.period.start.startsWith('2024-01-01')).toBe(true);
  });

  it('refuses overrides the schema rejects, naming the path and the override, and overrides with --all', async () => {
    const bad = await tm('backtest', '--config', join(experiments, 'sma-crossover.json'), '--set', 'params.fastt=10', '--db', db);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('(with params.fastt=10)');
    expect(bad.err).toContain('fastt');
    const shape = await tm('backtest', '--config', join(experiments, 'sma-crossover.json'), '--set', 'nonsense', '--db', db);
    expect(shape.err).toBe('tm: --set must look like path=value (e.g. params.fast=10 or data.symbols=\'["BTCUSDT"]\'), was "nonsense"');
    const all = await tm('backtest', '--all', '--experiments', experiments, '--from', '2024-01-01', '--db', db);
    expect(all.code).toBe(2);
    expect(all.err).toMatch(/--from, --to and --set apply to one experiment/);
  });
});

describe('tm report, tm experiments ls', () => {
  it('re-renders an experiment and a result folder, says whether the summary changed, and --open uses the opener', { timeout: 120_000 }, async () => {
    const exp = await tm('report', 'sma-crossover', '--experiments', experiments, '--db', db);
    expect(exp.err).toBe('');
    expect(exp.code).toBe(0);
    const html = join(experiments, 'results', 'sma-crossover', 'report.html');
    expect(exp.out).toBe(`report: ${html}`);
    const first = statSync(html).mtimeMs;

    const bin = join(dir, 'bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'xdg-open'), `#!/bin/sh\necho "$1" > ${join(dir, 'opened.txt')}\n`);
    chmodSync(join(bin, 'xdg-open'), 0o755);
    const path = process.env['PATH'];
    process.env['PATH'] = `${bin}:${path}`;
    let again: Awaited<ReturnType<typeof tm>>;
    try {
      again = await tm('report', join(experiments, 'results', 'sma-crossover'), '--db', db, '--open');
    } finally {
      process.env['PATH'] = path;
    }
    expect(again.err).toBe('');
    expect(again.out).toBe(`sma-crossover: summary unchanged (re-run from ${join(experiments, 'results', 'sma-crossover', 'summary.json')})\nreport: ${html}\nopened with xdg-open`);
    expect(statSync(html).mtimeMs).toBeGreaterThanOrEqual(first);
    for (let i = 0; i < 50 && !existsSync(join(dir, 'opened.txt')); i++) await new Promise((r) => setTimeout(r, 100));
    expect(readFileSync(join(dir, 'opened.txt'), 'utf8').trim()).toBe(html);

    const missing = await tm('report', 'no-such-experiment', '--experiments', experiments, '--db', db);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('no result folder or experiment "no-such-experiment"');
  });

  it('lists experiments with their last run and drift from the baseline', async () => {
    const r = await tm('experiments', 'ls', '--experiments', experiments, '--json');
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.out) as { name: string; lastRun: string | null; drift: string; strategy: string; hasBaseline: boolean; sharpe: number | null }[];
    expect(rows.map((x) => x.name)).toEqual(['buy-and-hold', 'sma-crossover']);
    expect(rows[0]).toMatchObject({ strategy: 'buy-and-hold', lastRun: null, drift: 'no-run', hasBaseline: false });
    // The full-period run of the committed experiment on the shared data matches its committed baseline.
    expect(rows[1]).toMatchObject({ strategy: 'sma-crossover', drift: 'ok', hasBaseline: true });
    expect(rows[1]!.lastRun).toMatch(/^\d{4}-\d\d-\d\dT/);
    const baseline = JSON.parse(readFileSync(join(experiments, 'baselines', 'sma-crossover.json'), 'utf8')) as { metrics: { sharpe: number } };
    expect(rows[1]!.sharpe).toBe(baseline.metrics.sharpe);

    const edited = { ...baseline, metrics: { ...baseline.metrics, sharpe: baseline.metrics.sharpe + 0.1 } };
    writeFileSync(join(experiments, 'baselines', 'sma-crossover.json'), JSON.stringify(edited));
    const table = await tm('experiments', 'ls', '--experiments', experiments);
    expect(table.out).toMatch(/sma-crossover\s+backtest\s+sma-crossover\s+binance-spot 4h BTCUSDT,ETHUSDT,SOLUSDT\s+2022-01-01\.\.2025-09-01\s+\S+\s+[-\d.]+\s+[-\d.]+ %\s+drift \(1 fields\)/);
  });
});

describe('tm strategies ls', () => {
  it('lists each registry strategy with parameter types, defaults, bounds and docs', async () => {
    const r = await tm('strategies', 'ls', '--json');
    expect(r.code).toBe(0);
    const list = JSON.parse(r.out) as { name: string; doc: string; parameters: { name: string; type: string; default: unknown; constraints: string; doc: string }[] | null }[];
    expect(list.map((s) => s.name)).toEqual(['buy-and-hold', 'regime-kelly', 'signal-column', 'sma-crossover']);
    const sma = list.find((s) => s.name === 'sma-crossover')!;
    expect(sma.doc).toMatch(/^Returns a moving-average crossover strategy/);
    expect(sma.parameters).toContainEqual({ name: 'fast', type: 'integer', default: 20, constraints: '>= 1', doc: 'Bars in the fast simple moving average of closes.' });
    expect(sma.parameters).toContainEqual({ name: 'allowShort', type: 'boolean', default: false, constraints: '', doc: 'Go short when fast < slow (otherwise flat).' });
    const table = await tm('strategies', 'ls');
    expect(table.out).toMatch(/^sma-crossover: Returns a moving-average crossover strategy/m);
    expect(table.out).toMatch(/^\s+slow\s+integer\s+100\s+>= 2\s+Bars in the slow simple moving average; must exceed `fast`\.$/m);
  });
});

describe('tm runs ls (real MLflow)', () => {
  it('lists the newest runs of an experiment with status and metrics, and says how to configure MLflow when it is not', async () => {
    const trackingUri = process.env['MLFLOW_TRACKING_URI'];
    expect(trackingUri, process.env['TM_SERVICES_ERROR'] ?? 'MLFLOW_TRACKING_URI unset').toBeTruthy();
    const client = new MlflowClient(parseMlflowClientConfig({ trackingUri }), { now: () => Date.now() });
    const experiment = `tm-runs-ls-${process.pid}-${Date.now().toString(36)}`;
    const experimentId = await client.ensureExperiment(experiment);
    const run = await client.createRun({ experimentId, runName: 'probe-run', startTime: Date.now() });
    await client.logBatch({ runId: run.info.run_id, metrics: [{ key: 'sharpe', value: 1.25, timestamp: Date.now(), step: 0 }], params: { seed: '7' } });
    await client.updateRun(run.info.run_id, 'FINISHED', Date.now());

    const r = await tm('runs', 'ls', '--experiment', experiment, '--json');
    expect(r.err).toBe('');
    const rows = JSON.parse(r.out) as { experiment: string; runId: string; name: string; status: string; metrics: Record<string, number>; params: Record<string, string> }[];
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ experiment, runId: run.info.run_id, name: 'probe-run', status: 'FINISHED', metrics: { sharpe: 1.25 }, params: { seed: '7' } });
    const table = await tm('runs', 'ls', '--experiment', experiment);
    expect(table.out).toMatch(new RegExp(`${experiment}\\s+${run.info.run_id}\\s+probe-run\\s+FINISHED\\s+\\S+\\s+[\\d.]+\\s+sharpe=1.25`));

    const saved = process.env['MLFLOW_TRACKING_URI'];
    delete process.env['MLFLOW_TRACKING_URI'];
    try {
      const none = await tm('runs', 'ls');
      expect(none.code).toBe(2);
      expect(none.err).toMatch(/^tm: no MLflow tracking server: pass --tracking-uri <url> or set MLFLOW_TRACKING_URI/);
    } finally {
      process.env['MLFLOW_TRACKING_URI'] = saved;
    }
  });
});

describe('tm doctor', () => {
  it('reports each check, names what is missing with the command that fixes it, and exits 1 then', async () => {
    const saved = process.env['TM_SHARED_DATA'];
    process.env['TM_SHARED_DATA'] = join(dir, 'no-such-folder');
    let r: Awaited<ReturnType<typeof tm>>;
    try {
      r = await tm('doctor', '--db', join(dir, 'absent.duckdb'), '--json');
    } finally {
      if (saved === undefined) delete process.env['TM_SHARED_DATA'];
      else process.env['TM_SHARED_DATA'] = saved;
    }
    expect(r.code).toBe(1);
    const checks = JSON.parse(r.out) as { check: string; status: string; detail: string; fix: string }[];
    expect(checks.map((c) => c.check)).toEqual(expect.arrayContaining(['node', 'npm', 'python3', 'go', 'chromium', 'compiled CLI', 'redis', 'mlflow', 'tslab kernel', 'store', 'TM_SHARED_DATA']));
    expect(checks.find((c) => c.check === 'node')).toMatchObject({ status: 'ok', detail: process.versions.node });
    expect(checks.find((c) => c.check === 'store')).toMatchObject({ status: 'missing', detail: `${join(dir, 'absent.duckdb')} does not exist`, fix: 'tm data import ../shared/data   (or tm data fetch ...)' });
    expect(checks.find((c) => c.check === 'TM_SHARED_DATA')).toMatchObject({ status: 'missing', detail: `${join(dir, 'no-such-folder')} is not a folder` });
    expect(existsSync(join(dir, 'absent.duckdb'))).toBe(false);

    // A port held by something that is not the service: named, with the port variable to change.
    const squatter = createServer((socket) => socket.destroy());
    await new Promise<void>((done) => squatter.listen(0, '127.0.0.1', done));
    const port = (squatter.address() as AddressInfo).port;
    const savedUri = process.env['MLFLOW_TRACKING_URI'];
    process.env['MLFLOW_TRACKING_URI'] = `http://127.0.0.1:${port}`;
    try {
      const held = JSON.parse((await tm('doctor', '--db', db, '--json')).out) as { check: string; status: string; detail: string; fix: string }[];
      const mlflow = held.find((c) => c.check === 'mlflow')!;
      expect(mlflow.status).toBe('missing');
      expect(mlflow.detail).toBe(`port ${port} is open but http://127.0.0.1:${port}/health does not answer: another process holds it`);
      expect(mlflow.fix).toMatch(/^stop that process, or choose another port: TM_MLFLOW_PORT=<free port> bash scripts\/services.sh up/);
    } finally {
      process.env['MLFLOW_TRACKING_URI'] = savedUri;
      squatter.close();
    }

    const ok = await tm('doctor', '--db', db);
    expect(ok.out).toMatch(/^store\s+ok\s+.*market\.duckdb: 6 series$/m);
    expect(ok.out).toMatch(/^redis\s+(ok|MISSING)\s+/m);
  });
});
