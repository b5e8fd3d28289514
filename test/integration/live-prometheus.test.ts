/**
 * The real Prometheus scrapes three runners, `tm live --metrics-port` as child processes polling bars through ccxt
 * from local Bybit v5 servers whose clock the test drives (`--clock venue`):
 * - paper: an SMA crossover with pre-trade risk limits that deny large orders and halt the account on a drawdown;
 * - paper: regime-kelly on a GBDT streamed through the signal stage (`name@production` in the real MLflow, funding
 *   from the venue, DVOL from the store) with a 2-state MS-GARCH regime fit: signal, model, feature, cascade, sizing
 *   and regime families; a version promoted mid-run with another feature set is refused (model swap failed);
 * - demo: an SMA crossover against the local venue with seeded faults (5xx, 10006, partial fills) and an account
 *   that differs from the experiment: reconciliation, venue errors, rate-limit waits, cancelled remainders.
 * Every dashboard query and alert expression is evaluated through Prometheus's HTTP API and must return data (the
 * exclusion lists below are empty; a family that cannot be fed would be listed with the reason). `promtool check
 * metrics` on the runner's exposition.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { timeframeMs } from '../../src/core/time.js';
import { BybitV5Server, type ServerBars } from '../support/bybit-v5-server.js';
import { BybitV5Venue, TEST_API_KEY, TEST_API_SECRET } from '../support/bybit-v5-venue.js';
import { readSharedFunding } from '../support/bybit-test-data.js';
import { serverKlines, sharedFrame } from '../support/live-harness.js';
import { modelInputsStore, tinyModel } from '../support/live-model.js';
import { publishModel, sha256Hex, type MlflowClient } from '../../src/registry/index.js';
import { serviceRegistry } from '../support/service-env.js';
import { promtool } from '../support/promtool.js';
import { alertRules, dashboardExpressions, freePort, sleep, TestPrometheus, values } from '../support/prometheus.js';
import { tempDir } from '../support/shared-data.js';

const WARMUP = 29;
const BARS = 90;
/** ETHUSDT's bars end after this many live bars: from then on its input is stale (bar sets without it). */
const ETH_BARS = 50;
const frame = sharedFrame('2024-03-01T00:00:00Z', WARMUP + BARS + 10);
/** BTCUSDT bars from further back: the model runner warms its feature pipeline up on them. */
const longFrame = sharedFrame('2023-09-01T00:00:00Z', 1200);
const tf = timeframeMs('4h');
const startTs = frame.ts[WARMUP]!;
const root = process.cwd();

/** Metric families the three runs cannot have, and why (none). */
const NOT_IN_PAPER: Readonly<Record<string, string>> = {};

/**
 * Alerts whose expression the runs cannot make true, and why (none). They fire: RunnerDown on a target where nothing
 * listens, CircuitBreakerOpen and DrawdownOverLimit on the drawdown halt, StaleData on ETH's missing bars,
 * NoBarForTwoPeriods because the venue clock replays 2024 (Prometheus compares with its own time()),
 * ReconciliationDifference on the demo account's balance, ModelSwapFailed on the refused promotion.
 */
const ALERTS_NOT_IN_PAPER: Readonly<Record<string, string>> = {};

const familyOf = (expr: string) => /trade_matrix_[a-z_]+/.exec(expr)?.[0] ?? /[a-z_]+/.exec(expr)![0];

describe('real Prometheus scraping tm live --paper', () => {
  const dir = tempDir('tm-live-prometheus-');
  let venueNow = startTs;
  let server: BybitV5Server;
  let runner: ChildProcess;
  let modelRunner: ChildProcess;
  let modelOut = '';
  let modelErr = '';
  let modelTarget = '';
  let mlflow: MlflowClient;
  let venue: BybitV5Venue;
  let demoRunner: ChildProcess;
  let demoOut = '';
  let demoErr = '';
  let demoTarget = '';
  let played = 0;
  /** The demo venue trades every bar whose close the venue clock passed (its own price feed). */
  const playVenue = () => {
    while (played < frame.ts.length && frame.ts[played]! + tf <= venueNow) {
      const k = played++;
      frame.symbols.forEach((sym, i) => venue.bar({ open: frame.open[i]![k]!, high: frame.high[i]![k]!, low: frame.low[i]![k]!, close: frame.close[i]![k]!, volume: frame.volume[i]![k]! }, sym));
    }
  };
  const modelName = `tm-test-prometheus-${process.pid}-${Date.now().toString(36)}`;
  let runnerOut = '';
  let runnerErr = '';
  let target = '';
  let downTarget = '';
  let prometheus: TestPrometheus;
  let driving = true;
  let driver: Promise<void>;

  beforeAll(async () => {
    const end = (i: number) => (frame.symbols[i] === 'ETHUSDT' ? WARMUP + ETH_BARS : frame.ts.length);
    const klines: Record<string, Record<string, ServerBars>> = Object.fromEntries(frame.symbols.map((s, i) => [s, { '240': { ts: frame.ts.slice(0, end(i)), open: frame.open[i]!.slice(0, end(i)), high: frame.high[i]!.slice(0, end(i)), low: frame.low[i]!.slice(0, end(i)), close: frame.close[i]!.slice(0, end(i)), volume: frame.volume[i]!.slice(0, end(i)) } }]));
    // BTCUSDT from further back (the model runner's warm-up; the SMA runner asks only for its last 29 bars).
    const b = longFrame.symbols.indexOf('BTCUSDT');
    klines['BTCUSDT'] = { '240': { ts: longFrame.ts, open: longFrame.open[b]!, high: longFrame.high[b]!, low: longFrame.low[b]!, close: longFrame.close[b]!, volume: longFrame.volume[b]! } };
    server = await BybitV5Server.start({ klines, funding: { BTCUSDT: readSharedFunding('binance-futures/BTCUSDT-funding.csv.gz') }, now: () => venueNow });
    // The model runner's store (regime fit, DVOL) and model package.
    const db = join(dir, 'market.duckdb');
    await modelInputsStore(db, ['BTCUSDT']);
    // The model runner follows name@production in the real MLflow: version 1 runs; version 2 (another feature set)
    // is promoted mid-run and refused (TradeMatrixModelSwapFailed).
    const registry = serviceRegistry();
    mlflow = registry.mlflow;
    const s3 = registry.s3;
    const good = await tinyModel(db, modelName);
    await publishModel(mlflow, s3, { experiment: modelName, runName: 'v1', card: good.card, onnxBytes: good.onnx, registeredModel: modelName });
    const bad = new Uint8Array(randomBytes(1024));
    await publishModel(mlflow, s3, { experiment: modelName, runName: 'v2', card: { ...good.card, featureNames: ['f1', 'f2'], featureSpecHash: 'a1b2c3d4e5f60718', onnxSha256: sha256Hex(bad) }, onnxBytes: bad, registeredModel: modelName });
    await mlflow.setAlias(modelName, 'production', '1');
    const pkg = `${modelName}@production`;
    const modelExperiment = join(dir, 'live-prometheus-model.json');
    writeFileSync(
      modelExperiment,
      JSON.stringify({
        name: 'live-prometheus-model', strategy: 'regime-kelly', params: { column: 'signal', minRebalance: 0.1, risk: { horizonBars: 1, ic: { window: 20, minPairs: 5 } } },
        data: { venue: 'bybit', symbols: ['BTCUSDT'], timeframe: '4h', start: '2024-03-01', end: '2025-01-01' },
        instruments: 'bybit-linear', funding: { venue: 'bybit', fallback: { kind: 'zero' } },
        columns: { signal: { source: 'model', model: pkg } },
        regime: { fitStart: '2023-03-01', fitEnd: '2024-03-01', states: 2, seed: 1, onDegenerate: 'report' },
        initialCash: 100000, leverage: 3, slippage: { model: 'fixed', bps: 2 }, seed: 1,
      }),
    );
    const experiment = join(dir, 'live-prometheus.json');
    writeFileSync(
      experiment,
      JSON.stringify({
        name: 'live-prometheus', strategy: 'sma-crossover', params: { fast: 5, slow: 20, allocation: 0.4, allowShort: true },
        data: { venue: 'bybit', symbols: ['BTCUSDT', 'ETHUSDT'], timeframe: '4h', start: '2024-03-01', end: '2025-01-01' },
        instruments: 'bybit-linear', funding: { venue: 'bybit', fallback: { kind: 'zero' } }, initialCash: 100000, leverage: 10, slippage: { model: 'fixed', bps: 2 }, seed: 1,
        risk: { maxOrderNotional: 55_000, maxDrawdown: 0.03, drawdownState: 'HALTED' },
      }),
    );
    const [metricsPort, downPort] = await Promise.all([freePort(), freePort()]);
    target = `127.0.0.1:${metricsPort}`;
    downTarget = `127.0.0.1:${downPort}`;
    runner = spawn(process.execPath, [join(root, 'bin/tm.js'), 'live', '--paper', '--experiment', experiment, '--run-id', 'prom', '--dir', join(dir, 'run'), '--api-url', server.url, '--clock', 'venue', '--poll-ms', '20', '--grace-ms', '0', '--metrics-port', String(metricsPort)], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    runner.stdout!.on('data', (d) => (runnerOut += d));
    runner.stderr!.on('data', (d) => (runnerErr += d));
    // A demo runner against the local Bybit v5 venue with seeded faults (5xx, 10006, partial fills): reconciliation,
    // venue errors by code, rate-limit waits and the cancelled remainders of partially filled orders.
    // Its private requests are held until Prometheus has scraped its reconciliation series at 0 (so the start-up
    // reconciliation is an increase); the seeded faults start once it is ready.
    // The demo account holds 99,000 USDT where the experiment says 100,000: the start-up reconciliation reports the
    // equity difference (TradeMatrixReconciliationDifference).
    venue = await BybitV5Venue.start({ accounts: [{ apiKey: TEST_API_KEY, apiSecret: TEST_API_SECRET, balance: 99_000 }], server: { klines: serverKlines(frame) }, now: () => venueNow, slippageBps: 2, initialPrice: 1, recvWindowCheck: false });
    const releaseVenue = venue.holdPrivate();
    playVenue();
    const demoExperiment = join(dir, 'live-prometheus-demo.json');
    writeFileSync(demoExperiment, JSON.stringify({ name: 'live-prometheus-demo', strategy: 'sma-crossover', params: { fast: 3, slow: 12, allocation: 0.4, allowShort: true }, data: { venue: 'bybit', symbols: ['BTCUSDT', 'ETHUSDT'], timeframe: '4h', start: '2024-03-01', end: '2025-01-01' }, instruments: 'bybit-linear', funding: { venue: 'bybit', fallback: { kind: 'zero' } }, initialCash: 100000, leverage: 10, slippage: { model: 'fixed', bps: 2 }, seed: 1 }));
    const demoPort = await freePort();
    demoTarget = `127.0.0.1:${demoPort}`;
    const modelPort = await freePort();
    modelTarget = `127.0.0.1:${modelPort}`;
    modelRunner = spawn(process.execPath, [join(root, 'bin/tm.js'), 'live', '--paper', '--experiment', modelExperiment, '--db', db, '--run-id', 'promm', '--dir', join(dir, 'model-run'), '--api-url', server.url, '--clock', 'venue', '--poll-ms', '20', '--grace-ms', '0', '--metrics-port', String(modelPort)], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TM_RUNNER_NAME: 'model-runner' } });
    modelRunner.stdout!.on('data', (d) => (modelOut += d));
    modelRunner.stderr!.on('data', (d) => (modelErr += d));
    for (let k = 0; k < 600 && !runnerOut.includes('metrics on ') && runner.exitCode === null; k++) await sleep(50);
    expect(runnerOut).toContain(`metrics on http://${target}/metrics`);
    // The model runner loads its model, fits its regime and replays its warm-up before the venue clock moves.
    for (let k = 0; k < 1200 && !modelOut.includes('ready:') && modelRunner.exitCode === null; k++) await sleep(50);
    expect(modelOut + modelErr).toContain('ready:');
    demoRunner = spawn(process.execPath, [join(root, 'bin/tm.js'), 'live', '--demo', '--experiment', demoExperiment, '--run-id', 'promd', '--dir', join(dir, 'demo-run'), '--api-url', venue.url, '--clock', 'venue', '--poll-ms', '20', '--grace-ms', '0', '--metrics-port', String(demoPort)], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TM_RUNNER_NAME: 'demo-runner', BYBIT_API_KEY: TEST_API_KEY, BYBIT_API_SECRET: TEST_API_SECRET } });
    demoRunner.stdout!.on('data', (d) => (demoOut += d));
    demoRunner.stderr!.on('data', (d) => (demoErr += d));
    for (let k = 0; k < 600 && !demoOut.includes('metrics on ') && demoRunner.exitCode === null; k++) await sleep(50);
    prometheus = await TestPrometheus.start([target, downTarget, modelTarget, demoTarget], mkdtempSync(join(tmpdir(), 'tm-prometheus-')));
    for (let k = 0; k < 600 && values(await prometheus.query(`trade_matrix_reconciliation_runs_total{instance="${demoTarget}"}`)).length === 0; k++) await sleep(100);
    releaseVenue();
    for (let k = 0; k < 1200 && !demoOut.includes('ready:') && demoRunner.exitCode === null; k++) await sleep(50);
    expect(demoOut + demoErr).toContain('ready:');
    venue.setFaults({ seed: 5, rates: { server_error: 0.05, rate_limit: 0.05, partial_fill: 0.5 } });
    // The venue clock moves a bar every 150 ms while Prometheus scrapes every second.
    driver = (async () => {
      for (let k = 1; k <= BARS && driving; k++) {
        venueNow = startTs + k * tf;
        playVenue();
        if (k === 60) await mlflow.setAlias(modelName, 'production', '2');
        await sleep(150);
      }
    })();
    // Wait for ≥ 8 scrapes (rate/increase need two samples), ETH's bars going stale and the drawdown halt.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const scrapes = values(await prometheus.query(`count_over_time(up{instance="${target}"}[5m])`))[0] ?? 0;
      const stale = values(await prometheus.query('max(trade_matrix_stale_inputs{input="bars"})'))[0] ?? 0;
      const halted = values(await prometheus.query('max(trade_matrix_circuit_breaker_state{state="open"})'))[0] ?? 0;
      const ic = values(await prometheus.query('trade_matrix_rolling_information_coefficient_ratio')).length;
      const refused = values(await prometheus.query('increase(trade_matrix_model_swaps_total{status="failed"}[15m])'))[0] ?? 0;
      const venueFaults = Math.min(values(await prometheus.query('sum(trade_matrix_venue_errors_total)'))[0] ?? 0, values(await prometheus.query('sum(trade_matrix_rate_limit_waits_total)'))[0] ?? 0);
      const swapsRaw = JSON.stringify((await prometheus.query('trade_matrix_model_swaps_total')).data.result);
      if (scrapes >= 8 && stale > 0 && halted === 1 && ic > 0 && refused > 0 && venueFaults > 0) break;
      if (Date.now() > deadline) throw new Error(`in 60 s: ${scrapes} scrapes, stale bars ${stale}, breaker open ${halted}, IC series ${ic}, refused swaps ${refused} ${swapsRaw}, min(venue errors, rate-limit waits) ${venueFaults}; demo runner: ${demoOut}${demoErr}; runner: ${runnerOut}${runnerErr}; model runner: ${modelOut}${modelErr}`);
      await sleep(500);
    }
  }, 150_000);

  afterAll(async () => {
    driving = false;
    await driver;
    prometheus?.stop();
    for (const child of [runner, modelRunner, demoRunner]) {
      if (!child || child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    }
    await server?.close();
    await venue?.close();
    await mlflow?.deleteRegisteredModel(modelName).catch(() => undefined);
  }, 60_000);

  it('scrapes the runner (up = 1, ready until the drawdown halt) and reports the stopped target as down', async () => {
    expect(values(await prometheus.query(`up{job="trade-matrix-runner",instance="${target}"}`))).toEqual([1]);
    expect(values(await prometheus.query(`up{job="trade-matrix-runner",instance="${downTarget}"}`))).toEqual([0]);
    expect(values(await prometheus.query(`max_over_time(trade_matrix_runner_ready{instance="${target}"}[5m])`))).toEqual([1]);
    const info = (await prometheus.query('trade_matrix_runner_info')).data.result as { metric: Record<string, string> }[];
    expect(info.map((s) => `${s.metric['runner']} ${s.metric['mode']}`).sort()).toEqual(['demo-runner live', 'model-runner paper', 'trade-matrix paper']);
    expect(values(await prometheus.query(`up{instance="${modelTarget}"}`))).toEqual([1]);
  });

  it('every dashboard query returns finite data (the exclusion list is empty: every family is fed)', async () => {
    const failures: string[] = [];
    const empty = new Set<string>();
    const expressions = dashboardExpressions();
    for (const { file, panel, expr } of expressions) {
      const r = await prometheus.query(expr);
      if (r.status !== 'success') failures.push(`${file} / ${panel}: ${r.error} in ${expr}`);
      else if (values(r).length === 0) empty.add(familyOf(expr));
      else if (!values(r).some(Number.isFinite)) failures.push(`${file} / ${panel}: only NaN/Inf for ${expr}`);
    }
    expect(failures).toEqual([]);
    const expected = new Set(expressions.map((e) => familyOf(e.expr)).filter((f) => f in NOT_IN_PAPER));
    expect([...empty].sort()).toEqual([...expected].sort());
    expect(expressions.length - [...expressions].filter((e) => empty.has(familyOf(e.expr))).length).toBeGreaterThan(90);
  });

  it('every alert expression returns data and its alert is pending or firing (none excluded)', async () => {
    const alerts = alertRules();
    const withData: string[] = [];
    for (const rule of alerts) if (values(await prometheus.query(rule.expr)).length > 0) withData.push(rule.alert);
    const possible = alerts.map((a) => a.alert).filter((a) => !(a in ALERTS_NOT_IN_PAPER)).sort();
    expect(withData.sort()).toEqual(possible);
    let active = new Set<string>();
    for (let i = 0; i < 20 && possible.some((a) => !active.has(a)); i++) {
      active = await prometheus.activeAlerts();
      await sleep(500);
    }
    expect([...active].sort()).toEqual(possible);
  });

  it('the drawdown halt opened the breaker: the transition is counted with its trigger and /readyz says not ready', async () => {
    const transitions = (await prometheus.query(`trade_matrix_circuit_breaker_transitions_total{instance="${target}"}`)).data.result as { metric: Record<string, string> }[];
    expect(transitions.map((s) => `${s.metric['state']} ${s.metric['reason']}`).sort()).toEqual(['closed start', 'open max_drawdown']);
    const readyz = await fetch(`http://${target}/readyz`);
    expect(readyz.status).toBe(503);
    expect(await readyz.json()).toEqual({ ready: false, checks: { warmedUp: true, reconciled: true, breakerNotOpen: false } });
    const journal = readFileSync(join(dir, 'run', 'journal.jsonl'), 'utf8');
    expect(journal).toContain('"state":"HALTED"');
    // Halted and flat: no more fills; the runner's counter agrees with its journal.
    const fills = journal.split('\n').filter((l) => l.startsWith('{"k":"fill"')).length;
    const exposition = await (await fetch(`http://${target}/metrics`)).text();
    const counted = [...exposition.matchAll(/^trade_matrix_fills_total\{[^}]*\} (\d+)$/gm)].reduce((a, m) => a + Number(m[1]), 0);
    expect(counted).toBe(fills);
    expect(fills).toBeGreaterThan(2);
  });

  it('promtool check metrics: the runner’s trade_matrix families pass; the process families trip only the known rule', async () => {
    const text = await (await fetch(`http://${target}/metrics`)).text();
    const blocks = text.split(/(?=^# HELP )/m);
    const custom = blocks.filter((b) => b.startsWith('# HELP trade_matrix_')).join('');
    const process = blocks.filter((b) => !b.startsWith('# HELP trade_matrix_')).join('');
    expect(custom.length).toBeGreaterThan(10_000);
    const run = promtool(['check', 'metrics'], custom);
    expect(run.output).toBe('');
    expect(run.status).toBe(0);
    for (const line of promtool(['check', 'metrics'], process).output.trim().split('\n')) expect(line).toMatch(/^nodejs_active_(handles|requests|resources)_total non-counter metrics should not have "_total" suffix$/);
  });
});
