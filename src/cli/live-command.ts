import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { BybitMarketDataClient } from '../adapters/bybit/bybit-market-data-client.js';
import { experimentVenueModels, fitExperimentRegimes, type ExperimentConfig } from '../backtest/run-experiment.js';
import { FUNDING_INTERVAL_MS } from '../backtest/execution-models.js';
import { AppError } from '../core/app-error.js';
import { formatUtc, timeframeMs } from '../core/time.js';
import { LiveBarFeed } from '../live/bar-feed.js';
import { PolledPacer, WallPacer, type Pacer } from '../live/live-clock.js';
import { LIVE_MODES, LiveRunner, type LiveMode, type LiveStatus } from '../live/live-runner.js';
import { liveSetup, regimesToJson, type LiveSetup } from '../live/live-setup.js';
import { PaperFundingRates } from '../live/paper-funding.js';
import { resolveBybitEnvironment, type BybitExecutionClient } from '../adapters/bybit/index.js';
import { networkDeadlinesFromEnv } from '../config/network-deadlines.js';
import { REPLAY_FILLS, replayJournal, type ReplayFills } from '../live/replay.js';
import { probeRunLock } from '../live/run-lock.js';
import { stopActionNames } from '../live/shutdown.js';
import { DEFAULT_WARMUP_GATES } from '../live/warmup-gates.js';
import { runnerStateKey } from '../live/saved-signal-state.js';
import type { StateStore } from '../engine/state-store.js';
import { STRATEGIES } from '../strategies/index.js';
import { loadOrThrow } from './experiment-file.js';
import { readControl, removeControl, writeControl } from './live-control-file.js';
import { createBybitVenue, preparing } from './live-venue-client.js';
import { formatTable, type CliIo } from './output.js';
import { TM_VERSION } from './version.js';
import { withStore } from './store-session.js';

interface LiveFlags {
  experiment?: string;
  paper?: boolean;
  demo?: boolean;
  testnet?: boolean;
  mainnet?: boolean;
  iAcceptRealMoney?: boolean;
  runId?: string;
  dir?: string;
  apiUrl?: string;
  maxBars?: string;
  clock: 'wall' | 'venue';
  pollMs: string;
  graceMs: string;
  model?: string;
  db?: string;
  inputs: 'venue' | 'store';
  unhalt?: boolean;
  keyFile?: string;
  metricsPort: string;
  stateStore?: string;
  stateMaxAge: string;
  restartProtection: string;
  stopWaitMs: string;
  warmupGates: boolean;
}

/**
 * The runner's state store: Redis at `url` (`none` or absent: no store, every start warms up from the venue). Redis
 * down at the start is an alert, not a failure: the run warms up from the venue and its state is saved again once
 * Redis answers (the client reconnects in the background).
 */
async function openStateStore(url: string | undefined, io: CliIo): Promise<StateStore | undefined> {
  if (url === undefined || url === '' || url === 'none') return undefined;
  if (!/^rediss?:\/\//.test(url)) throw new AppError('invalid_arguments', `--state-store must be a redis:// URL or none, was ${JSON.stringify(url.replace(/\/\/[^@/]*@/, '//***@'))}`, {});
  // Loaded only when used (ioredis is not part of a store-less start).
  const { RedisStateStore } = await import('../state/redis-state-store.js');
  const { store, error } = await RedisStateStore.openResilient(url, networkDeadlinesFromEnv(process.env));
  if (error !== undefined) io.out(`ALERT ${error}: warm-up from the venue; the runner state is saved once Redis answers`);
  return store;
}

/** The default run id of an experiment in a mode: `lv` + 6 hex of sha256(name, mode) — stable across restarts. */
export function defaultRunId(experimentName: string, mode: LiveMode): string {
  return `lv${createHash('sha256').update(`${experimentName}\u0000${mode}`).digest('hex').slice(0, 6)}`;
}

function modeOf(opts: LiveFlags): LiveMode {
  const modes = LIVE_MODES.filter((m) => opts[m] === true);
  if (modes.length > 1) throw new AppError('invalid_arguments', `choose one of --paper, --demo, --testnet, --mainnet; got ${modes.map((m) => `--${m}`).join(' ')}`, { modes });
  return modes[0] ?? 'demo';
}

function runDir(opts: { dir?: string; runId?: string }): string {
  if (opts.dir !== undefined) return resolve(opts.dir);
  if (opts.runId !== undefined) return resolve('runs', 'live', opts.runId);
  throw new AppError('invalid_arguments', 'name the run: --run-id <id> or --dir <run folder>', {});
}

function readStatus(dir: string): LiveStatus {
  const path = join(dir, 'status.json');
  if (!existsSync(path)) throw new AppError('not_found', `no live run in ${dir} (status.json is missing): start one with tm live --paper|--demo --experiment <file>`, { path });
  return JSON.parse(readFileSync(path, 'utf8')) as LiveStatus;
}

/**
 * The process id of the life holding run folder `dir` now (its lock, see `probeRunLock`), undefined when none does.
 * status.json's pid alone is not enough: a life killed with -9 leaves it saying running, and the system may have given
 * its pid to another process since (which a stop would then signal).
 */
async function runningPid(dir: string, status: LiveStatus): Promise<number | undefined> {
  const lock = await probeRunLock(dir);
  if (!lock.held) return undefined;
  // A holder that did not answer in time (its event loop busy): the pid its status names, while that one lives.
  return lock.pid ?? (alive(status.pid) ? status.pid : undefined);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function positiveInt(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new AppError('invalid_arguments', `${flag} must be a positive integer, was ${JSON.stringify(text)}`, { flag, value: text });
  return n;
}

/**
 * Builds `tm live`: runs an experiment's strategy live — `--paper` against the simulated venue, `--demo` (default)
 * on the Bybit demo account, `--testnet`, or `--mainnet` with `--i-accept-real-money` and TM_ALLOW_REAL_MONEY=1 —
 * crash-only (restart = start: state, warm-up, reconciliation), journaling every bar, decision and venue event.
 * Subcommands: status, stop, kill, replay.
 */
export function liveCommand(io: CliIo, setExit: (code: number) => void): Command {
  const live = new Command('live')
    .description('run an experiment live (--paper | --demo | --testnet | --mainnet): crash-only runner with journal and reconciliation; subcommands status, stop, kill, replay')
    .option('--experiment <file>', 'experiment config (strategy, params, symbols, timeframe, cash, leverage, fees, slippage)')
    .option('--paper', 'simulated venue (the backtest’s models) on live bars')
    .option('--demo', 'Bybit demo account (the default)')
    .option('--testnet', 'Bybit testnet')
    .option('--mainnet', 'Bybit mainnet: REAL MONEY; needs --i-accept-real-money and TM_ALLOW_REAL_MONEY=1')
    .option('--i-accept-real-money', 'second switch for --mainnet')
    .option('--run-id <id>', 'run id: 1-8 of [A-Za-z0-9-], the prefix of this run’s order ids (default lv + hash of experiment and mode)')
    .option('--dir <folder>', 'run folder (journal.jsonl, state.json, status.json); default runs/live/<run id>')
    .option('--api-url <url>', 'base URL replacing every Bybit host (a local v5 server)')
    .option('--max-bars <n>', 'stop after n live bars (default: run until stopped)')
    .option('--clock <clock>', 'wall: this machine’s clock; venue: the venue’s /v5/market/time polled every --poll-ms (a local venue on a fast clock)', 'wall')
    .option('--poll-ms <ms>', 'poll interval of the venue clock and of unpublished bars', '1000')
    .option('--grace-ms <ms>', 'wait after a bar’s close before asking for it', '2000')
    .option('--model <ref>', 'model streamed into the experiment’s model column (or its stored-predictions column): a package folder or name@alias (4-tier loader)')
    .option('--db <path>', 'store (default TM_DB): the regime fit before data.start, DVOL (and with --inputs store, funding and reference closes); opened read-only per request')
    .option('--inputs <source>', 'signal inputs besides the bars: venue (Bybit funding history and klines; DVOL from the store) or store', 'venue')
    .option('--unhalt', 'clear halts saved by the kill switch or a lost order (and the list of lost orders)')
    .option('--key-file <path>', 'Bybit keys as JSON {"apiKey","apiSecret"}, outside the repository, chmod 600 (default: BYBIT_API_KEY / BYBIT_API_SECRET)')
    .option('--metrics-port <port>', 'serve /metrics, /healthz, /readyz on this port (host TM_METRICS_HOST, default 127.0.0.1); 0 = off', '0')
    .option('--state-store <url>', 'runner state in Redis, saved after every bar and restored at a restart (warm-up tier 1, tier 2 with a gap fill): a redis:// URL, or none; default REDIS_URL when set')
    .option('--state-max-age <hours>', 'a saved runner state older than this is not restored (the run warms up from the venue)', '4')
    .option('--stop-wait-ms <ms>', 'how long a stop (tm live stop, kill) waits for the venue to confirm its cancels and its flatten\'s fills before the run ends and names what is not done', '2000')
    .option('--restart-protection <seconds>', 'after a restart, no new positions for this long (reduce-only orders and cancels pass)', '90')
    .option('--no-warmup-gates', 'model runs: open positions even when the warm-up window fails the quality gates (IC >= 0.05, p < 0.15, Sharpe > 0.5)')
    .action(async (opts: LiveFlags) => {
      if (opts.experiment === undefined) throw new AppError('invalid_arguments', 'tm live needs --experiment <file> (or a subcommand: status, stop, kill, replay)', {});
      if (opts.inputs !== 'venue' && opts.inputs !== 'store') throw new AppError('invalid_arguments', `--inputs must be venue or store, was ${JSON.stringify(opts.inputs)}`, { inputs: opts.inputs });
      const mode = modeOf(opts);
      // Refuse mainnet without all three switches before anything else happens (the adapter checks again).
      if (mode !== 'paper') resolveBybitEnvironment({ testnet: mode === 'testnet', mainnet: mode === 'mainnet', acceptRealMoney: opts.iAcceptRealMoney === true }, process.env);
      const config = (await loadOrThrow(opts.experiment)) as unknown as ExperimentConfig;
      // The regime fit (bars strictly before data.start, as the backtest fits it), from the store, before anything trades.
      const regimes = config.regime === undefined ? undefined : await withStore(opts.db, (store) => fitExperimentRegimes(store, config, experimentVenueModels(config).instruments), { readOnly: true });
      const setup = liveSetup(config, STRATEGIES, { ...(opts.model !== undefined ? { model: opts.model } : {}), ...(regimes !== undefined ? { regimes } : {}) });
      const runId = opts.runId ?? defaultRunId(config.name, mode);
      const dir = runDir({ ...opts, runId });
      const pollMs = positiveInt(opts.pollMs, '--poll-ms');
      const pacer = livePacer(opts.clock, opts.apiUrl, pollMs); // checks --clock before anything starts
      const market = new BybitMarketDataClient({ ...(opts.apiUrl !== undefined ? { apiUrl: opts.apiUrl } : {}) });
      let venue: BybitExecutionClient | undefined;
      const metricsPort = opts.metricsPort === '0' ? 0 : positiveInt(opts.metricsPort, '--metrics-port');
      let signals: Awaited<ReturnType<typeof import('../live/live-signals.js').openLiveSignals>> | undefined;
      let modelWatch: import('../live/model-watch.js').ModelWatch | undefined;
      const observed = metricsPort === 0 ? undefined : await (await import('../monitoring/live-metrics.js')).startLiveMetrics({ port: metricsPort, env: process.env, mode, version: TM_VERSION, strategy: config.name, instruments: setup.instruments.map((x) => x.id), timeframeMs: timeframeMs(setup.timeframe), journalPath: join(dir, 'journal.jsonl'), drawdownLimit: setup.risk?.maxDrawdown ?? null });
      if (observed !== undefined) io.out(`metrics on ${observed.server.url}/metrics`);
      const restartProtection = Number(opts.restartProtection);
      if (!(restartProtection >= 0 && Number.isFinite(restartProtection))) throw new AppError('invalid_arguments', `--restart-protection must be a number of seconds >= 0, was ${JSON.stringify(opts.restartProtection)}`, { restartProtection: opts.restartProtection });
      const stateMaxAge = Number(opts.stateMaxAge);
      if (!(stateMaxAge > 0 && Number.isFinite(stateMaxAge))) throw new AppError('invalid_arguments', `--state-max-age must be a number of hours > 0, was ${JSON.stringify(opts.stateMaxAge)}`, { stateMaxAge: opts.stateMaxAge });
      const stateStore = await openStateStore(opts.stateStore ?? process.env['REDIS_URL'], io);
      try {
        if (mode !== 'paper') {
          venue = createBybitVenue(mode, opts, setup, io, observed?.live.metrics);
        }
        if (setup.modelColumn !== undefined) {
          // Loaded only by runs with a model (the registry client, the S3 SDK and onnxruntime cost a model-free start ~0.5 s).
          const [{ openLiveSignals }, { VenueSignalInputs }, { ShortLivedStoreInputs }, { loadExperimentModel, registryModelSource }, { ModelWatch }, { DEFAULT_FEATURE_SPEC, FeaturePipeline }] = await Promise.all([
            import('../live/live-signals.js'),
            import('../live/venue-signal-inputs.js'),
            import('./live-inputs.js'),
            import('./model-packages.js'),
            import('../live/model-watch.js'),
            import('../features/index.js'),
          ]);
          const column = setup.modelColumn;
          const storeInputs = new ShortLivedStoreInputs(opts.db, { venue: config.data.venue, fundingVenue: column.source.fundingVenue }, (m) => io.err(`signal inputs: ${m}`));
          if (opts.inputs === 'venue' && column.source.fundingVenue !== 'bybit') io.out(`note: the funding input is Bybit's funding history, standing in for ${column.source.fundingVenue} (the model column's fundingVenue)`);
          const source = opts.inputs === 'store' ? storeInputs : new VenueSignalInputs(market, storeInputs);
          const tf = timeframeMs(setup.timeframe);
          signals = await openLiveSignals({ ...setup, modelColumn: column }, { loadModel: loadExperimentModel, source, from: Math.floor((await pacer.now()) / tf) * tf, now: () => Date.now() });
          for (const note of signals.notes) io.out(note);
          // Promote-to-live: a registry alias is followed (a new verified version swaps in at the next bar boundary).
          const watched = registryModelSource(column.source.model, setup.symbols, FeaturePipeline.fromSpec(DEFAULT_FEATURE_SPEC));
          if (watched !== undefined) {
            modelWatch = new ModelWatch(watched, signals.signals, { version: signals.models[0]!.version, models: signals.models }, { allowUngated: column.source.allowUngated, now: () => Date.now(), log: (line) => io.out(line), ...(observed ? { observer: observed.live } : {}) });
            io.out(`following ${column.source.model}: a promoted version is verified and swapped in at the next bar boundary (tm live rollback returns to the previous one)`);
          }
        }
        const feed = new LiveBarFeed(observed?.timeVenueCalls(market) ?? market, config.data.symbols, setup.timeframe, timeframeMs(setup.timeframe), pacer, { graceMs: Number(opts.graceMs), retryMs: pollMs, onError: (e) => io.err(`bar feed: ${(e as Error).message}`) });
        const fundingIntervalsMs = await fundingIntervals(market, setup, io);
        const runner = new LiveRunner(
          {
            runId, mode, instruments: setup.instruments, timeframe: setup.timeframe, initialCash: setup.initialCash, leverage: setup.leverage, dir, warmupBars: setup.warmupBars, fundingIntervalsMs,
            ...(opts.maxBars !== undefined ? { maxBars: positiveInt(opts.maxBars, '--max-bars') } : {}),
            ...(mode === 'paper' ? { paper: { fees: setup.fees, slippage: setup.slippage }, funding: paperFunding(market, setup, config, io, fundingIntervalsMs) } : {}),
            config: setup.config, unhalt: opts.unhalt === true,
            ...(regimes !== undefined ? { regimes: regimesToJson(regimes) } : {}),
            ...(setup.risk !== undefined ? { risk: setup.risk } : {}),
            ...(stateStore !== undefined ? { stateStore: { store: stateStore, key: runnerStateKey(runId, dir), maxAgeMs: stateMaxAge * 3_600_000 } } : {}),
            restartProtectionMs: restartProtection * 1000,
            stopWaitMs: positiveInt(opts.stopWaitMs, '--stop-wait-ms'),
            ...(opts.warmupGates ? { warmupGates: DEFAULT_WARMUP_GATES } : {}),
          },
          { feed, pacer, strategy: setup.strategy, ...(venue ? { venue, venueReady: preparing(venue), fundingIntervals: market } : {}), log: (line) => io.out(line), ...(observed ? { metrics: observed.live } : {}), ...(signals ? { signals: signals.signals } : {}), ...(modelWatch ? { modelWatch } : {}),
            ...(observed ? { quotes: { spreadBasisPoints: (i: number) => market.spreadBasisPoints(setup.symbols[i]!) } } : {}),
            stopDone: (requestId: number) => removeControl(dir, requestId) },
        );
        // A stop or kill requested while the run was down applies now: after warm-up and reconciliation, before any bar.
        const pendingControl = readControl(dir);
        if (pendingControl !== undefined) {
          io.out(`applying the saved request: ${pendingControl.reason}`);
          runner.stop(pendingControl.reason, pendingControl.actions, pendingControl.at);
        }
        const onSignal = (signal: string) => {
          const control = readControl(dir);
          runner.stop(control?.reason ?? signal, control?.actions ?? {}, control?.at);
        };
        const onRollback = () => runner.requestRollback();
        process.on('SIGTERM', onSignal);
        process.on('SIGINT', onSignal);
        process.on('SIGUSR2', onRollback);
        try {
          const summary = await runner.run();
          const unapplied = summary.unappliedStop;
          if (unapplied !== undefined) {
            // Nothing is sent unreconciled: the request waits for the next start (as one made while the run was down).
            writeControl(dir, { command: unapplied.actions.halt === true ? 'kill' : 'stop', reason: unapplied.reason, actions: unapplied.actions });
            io.out(`ALERT the stop's actions (${stopActionNames(unapplied.actions)}) were not applied: the run ended before it was reconciled with the venue; saved in control.json, applied when the run starts again`);
          }
          io.out(`stopped (${summary.stopReason}): ${summary.liveBars} live bars this session, last bar ${summary.lastBarTs > 0 ? formatUtc(summary.lastBarTs) : '-'}, ${summary.differences.length} reconciliation differences, ${summary.lostOrders.length} lost orders; journal ${join(dir, 'journal.jsonl')}`);
        } finally {
          process.off('SIGTERM', onSignal);
          process.off('SIGINT', onSignal);
          process.off('SIGUSR2', onRollback);
        }
      } finally {
        // The watch holds the models in use (and the previous ones); without one, the models opened at the start.
        if (modelWatch !== undefined) await modelWatch.close();
        else await signals?.close();
        await venue?.close();
        await market.close();
        await observed?.server.close();
        await stateStore?.close();
      }
    });

  live
    .command('status')
    .description('positions, open orders, equity, sizing tier, halts and last bar of a live run')
    .option('--run-id <id>', 'run id (folder runs/live/<id>)')
    .option('--dir <folder>', 'run folder')
    .option('--json', 'print status.json')
    .action(async (opts: { runId?: string; dir?: string; json?: boolean }) => {
      const dir = runDir(opts);
      const status = readStatus(dir);
      const pid = await runningPid(dir, status);
      const running = pid !== undefined;
      // A stop or kill not done yet: the run is applying it, or it waits for the next start (asked while the run was
      // down, or its life ended before applying it).
      const pending = readControl(dir, 'keep');
      if (opts.json) return io.out(JSON.stringify({ ...status, running, ...(running ? { pid } : {}), ...(pending !== undefined ? { pendingStop: pending } : {}) }, null, 2));
      io.out(`run ${status.runId} (${status.mode}, ${status.strategy}): ${running ? `running, pid ${pid}` : 'stopped'}; last bar ${status.lastBarTs > 0 ? formatUtc(status.lastBarTs) : '-'}; ${status.liveBars} live bars; equity ${status.equity.toFixed(2)}; trading ${status.tradingState}, venue breaker ${status.venueBreaker ?? 'closed'}${status.model ? `; model ${status.model.name} ${status.model.version}` : ''}`);
      io.out(formatTable(status.positions.map((p) => ({ instrument: p.instrument, position: p.quantity, entry: Number.isFinite(p.entryPrice) ? p.entryPrice : '', mark: p.mark }))));
      io.out(status.openOrders.length === 0 ? 'open orders: none' : formatTable(status.openOrders));
      if (status.warmup !== undefined) io.out(`warm-up: ${status.warmup.tier === 0 ? 'none' : `tier ${status.warmup.tier} in ${(status.warmup.seconds * 1000).toFixed(0)} ms`} (${status.warmup.reason})${status.warmup.entryBlock !== undefined ? `; no new positions: ${status.warmup.entryBlock}` : ''}`);
      if (status.tiers.length > 0) io.out(formatTable(status.tiers));
      for (const h of status.halted) io.out(`HALTED ${h.instrument}: ${h.reason}`);
      if (!running && status.stopLeftOver !== undefined) io.out(`ALERT the last stop was not done at the venue when the run ended: ${status.stopLeftOver} (tm live stop --flatten --now or tm live kill --now applies one again)`);
      if (pending !== undefined) io.out(`PENDING ${pending.reason} (${stopActionNames(pending.actions)}), asked ${formatUtc(pending.at)}: ${running ? 'being applied' : 'applied when the run starts again'}`);
      // Older status files have no list.
      for (const l of status.lostOrders ?? []) {
        const found = l.found !== undefined ? `; reported by the venue after all at ${formatUtc(l.found.ts)} (${l.found.status}), taken over` : '';
        io.out(`LOST ${l.id} (${l.instrument}) at ${formatUtc(l.ts)}: ${l.reason}${found}; listed until a restart with --unhalt`);
      }
    });

  const signalRun = (command: 'stop' | 'kill') =>
    live
      .command(command)
      .description(command === 'stop' ? 'stop a running live run after its current bar: cancel its working orders (--flatten: also close positions)' : 'kill switch: cancel all working orders, flatten every position and halt the run (a restart trades again only with --unhalt)')
      .option('--run-id <id>', 'run id (folder runs/live/<id>)')
      .option('--dir <folder>', 'run folder')
      .option('--flatten', 'also close every position (stop only; kill always flattens)')
      .option('--wait-ms <ms>', 'how long to wait for the run to confirm (with --now: for the venue to confirm the cancels and the flatten\'s fills)', '30000')
      .option('--now', 'a run that is not running: apply the request at once in a short life of the run (its saved state, reconciliation, the cancels, flatten and halt; no warm-up, no bar), instead of at its next start')
      .option('--api-url <url>', 'with --now: base URL replacing every Bybit host (a local v5 server)')
      .option('--key-file <path>', 'with --now: Bybit keys as JSON {"apiKey","apiSecret"} (default: BYBIT_API_KEY / BYBIT_API_SECRET)')
      .option('--i-accept-real-money', 'with --now on a mainnet run: the second switch (and TM_ALLOW_REAL_MONEY=1)')
      .option('--clock <clock>', 'with --now: the short life\'s clock, as tm live\'s (wall, or venue: the venue\'s /v5/market/time, for a local venue on a fast clock; a run with no saved state starts its bars from it)', 'wall')
      .option('--poll-ms <ms>', 'with --now --clock venue: poll interval of the venue clock', '1000')
      .action(async (opts: { runId?: string; dir?: string; flatten?: boolean; waitMs: string; now?: boolean; apiUrl?: string; keyFile?: string; iAcceptRealMoney?: boolean; clock: string; pollMs: string }) => {
        const pacer = livePacer(opts.clock, opts.apiUrl, positiveInt(opts.pollMs, '--poll-ms'));
        const dir = runDir(opts);
        const status = readStatus(dir);
        const actions = command === 'kill' ? { cancel: true, flatten: true, halt: true } : { cancel: true, flatten: opts.flatten === true };
        writeControl(dir, { command, reason: command === 'kill' ? 'kill switch (tm live kill)' : 'tm live stop', actions });
        const pid = await runningPid(dir, status);
        if (pid === undefined && opts.now !== true) {
          io.err(`run ${status.runId} is not running: the ${command} request is saved in control.json and applied when it starts (--now applies it at once)`);
          setExit(1);
          return;
        }
        if (pid === undefined) {
          // Applied here, in a life of this process (the run folder's lock keeps a start out meanwhile).
          io.out(`run ${status.runId} is not running: applying the ${command} now`);
          const { applyStopNow } = await import('./live-stop-now.js');
          // --wait-ms: how long the short life waits for the venue to confirm the cancels and the flatten's fills.
          await applyStopNow(dir, opts, io, { stopWaitMs: positiveInt(opts.waitMs, '--wait-ms'), pacer }); // a request it could not apply stays in control.json (said below)
        } else {
          process.kill(pid, 'SIGTERM');
          const deadline = Date.now() + positiveInt(opts.waitMs, '--wait-ms');
          // Until the process ends (not only its life: it saves an unapplied request in control.json after it).
          while (Date.now() < deadline && alive(pid)) await new Promise((r) => setTimeout(r, 100));
          if (alive(pid)) {
            io.err(`run ${status.runId} (pid ${pid}) did not stop within ${opts.waitMs} ms`);
            setExit(1);
            return;
          }
        }
        const after = readStatus(dir);
        io.out(`run ${after.runId} stopped: ${after.openOrders.length} open orders, positions ${after.positions.map((p) => `${p.instrument} ${p.quantity}`).join(', ')}${after.halted.length > 0 ? `; HALTED` : ''}`);
        if (existsSync(join(dir, 'control.json'))) {
          // The run ended before its stop was applied and saved: the request waits in control.json for its next start.
          // A run that ended normally says running: false; one still 'running' by its status died (kill -9, a crash).
          const why = after.running ? 'the process died before it saved the stop' : 'it ended before it was reconciled with the venue';
          io.err(`run ${after.runId} stopped without the ${command}'s actions (${why}): the request is saved in control.json and applied when it starts`);
          setExit(1);
        } else if (after.stopLeftOver !== undefined) {
          // Applied, but not confirmed by the venue when the run ended: nobody watches those orders now.
          io.err(`ALERT run ${after.runId} stopped, but the ${command} is not done at the venue: ${after.stopLeftOver}; check the venue (the next start reconciles with it; tm live ${command}${command === 'stop' && opts.flatten === true ? ' --flatten' : ''} --now applies it again)`);
          setExit(1);
        }
      });
  signalRun('stop');
  signalRun('kill');

  live
    .command('rollback')
    .description('return a running run’s model to the version before its last promotion (at the next bar boundary); the alias is not followed back until it moves again')
    .option('--run-id <id>', 'run id (folder runs/live/<id>)')
    .option('--dir <folder>', 'run folder')
    .action(async (opts: { runId?: string; dir?: string }) => {
      const dir = runDir(opts);
      const status = readStatus(dir);
      const pid = await runningPid(dir, status);
      if (pid === undefined) {
        io.err(`run ${status.runId} is not running: nothing to roll back (a restart loads the version its model reference names)`);
        setExit(1);
        return;
      }
      process.kill(pid, 'SIGUSR2');
      io.out(`run ${status.runId} (pid ${pid}): rollback requested; the journal records the swap at the next bar`);
    });

  live.addCommand(replayCommand(io, setExit));
  live.enablePositionalOptions(); // --dir, --run-id after a subcommand belong to the subcommand
  return live;
}

/** Builds `tm replay <journal>` (also `tm live replay`): the journal's bars through the backtester, first divergence. */
export function replayCommand(io: CliIo, setExit: (code: number) => void): Command {
  return new Command('replay')
    .argument('<journal>', 'journal.jsonl of a live run')
    .description('rerun a live run’s journaled bars through the backtester and report the first divergence in decisions or orders')
    .option('--json', 'print the report as JSON')
    .option('--fills <prices>', 'run: orders fill at the run’s journaled fills (price and fee), so decisions sized from equity follow the run’s account (default for venue runs); model: at the experiment’s fill and fee models, as a backtest (default for paper runs)')
    .action((journal: string, opts: { json?: boolean; fills?: string }) => {
      if (opts.fills !== undefined && !(REPLAY_FILLS as readonly string[]).includes(opts.fills)) {
        throw new AppError('invalid_arguments', `--fills must be ${REPLAY_FILLS.join(' or ')}, was ${JSON.stringify(opts.fills)}`, { fills: opts.fills });
      }
      const report = replayJournal(journal, STRATEGIES, opts.fills !== undefined ? { fills: opts.fills as ReplayFills } : {});
      if (opts.json) io.out(JSON.stringify(report, null, 2));
      else {
        io.out(`replay of run ${report.runId}: ${report.bars} bar times (${report.warmupBars} warm-up), ${report.liveDecisions} live decisions, ${report.replayDecisions} in the replay${report.instrumentHalts > 0 ? `; ${report.instrumentHalts} instrument halts and releases of the run applied` : ''}${report.accountStates > 0 ? `; ${report.accountStates} account state changes by hand applied` : ''}${report.shutdowns > 0 ? `; ${report.shutdowns} stops with cancel, flatten or kill applied` : ''}${report.funding.payments > 0 ? `; ${report.funding.payments} funding payments ${report.funding.source === 'paper' ? 'charged at the rates the run journaled' : 'of the venue booked'} (${report.funding.paid.toFixed(2)} paid)` : ''}${report.undone.bars > 0 ? `; ${report.undone.bars} bar times and ${report.undone.orders} paper orders a crashed life journaled after its saved state, undone by the next life, left out` : ''}${report.undone.states > 0 ? `; ${report.undone.states} state changes a life journaled after the state the next life restored, not in force, left out` : ''}`);
        io.out(`fills (${report.fills.prices === 'run' ? 'at the run’s prices and fees' : 'as the fill and fee models say'}): ${report.fills.live} live, ${report.fills.replay} replayed, ${report.fills.unmatched} unmatched orders, max price difference ${report.fills.maxPriceDiff}, max fee difference ${report.fills.maxFeeDiff}`);
        if (report.fills.unmatched > 0) io.out(`unmatched orders: ${report.fills.unmatchedIds.join(', ')}${report.fills.unmatched > report.fills.unmatchedIds.length ? ', …' : ''}`);
        const d = report.divergence;
        io.out(d === undefined ? 'no divergence' : `first divergence at decision ${d.index}: live ${JSON.stringify(d.live ?? null)} vs replay ${JSON.stringify(d.replay ?? null)}`);
      }
      if (report.divergence !== undefined || report.fills.unmatched > 0) setExit(1);
    });
}

/**
 * A paper run's funding: every perpetual charged at the rate the venue (Bybit) published for each settlement, the
 * experiment's `funding.fallback` where it lists none when asked. Bybit's rates, whatever `funding.venue` the
 * experiment's backtests take theirs from: the paper venue simulates Bybit's contracts.
 */
function paperFunding(market: BybitMarketDataClient, setup: LiveSetup, config: ExperimentConfig, io: CliIo, intervalsMs: readonly number[]): PaperFundingRates {
  if (config.funding.venue !== 'bybit') io.out(`note: paper funding is charged at Bybit's published rates (the backtests take theirs from ${config.funding.venue})`);
  return new PaperFundingRates(market, setup.symbols, setup.instruments.map((x) => x.kind !== 'spot'), config.funding.fallback, (line) => io.out(line), intervalsMs);
}

/**
 * Each perpetual's funding interval as the venue states it when the run starts (Bybit's `fundingInterval`: 1, 2, 4 or
 * 8 h), said when not 8 h; 8 h (said) when it cannot be read, and for spot instruments.
 */
async function fundingIntervals(market: BybitMarketDataClient, setup: LiveSetup, io: CliIo): Promise<number[]> {
  const intervals: number[] = [];
  for (let i = 0; i < setup.instruments.length; i++) {
    const symbol = setup.symbols[i]!;
    let interval = FUNDING_INTERVAL_MS;
    if (setup.instruments[i]!.kind !== 'spot') {
      try {
        interval = (await market.instrument(symbol)).fundingIntervalMs;
      } catch (e) {
        io.out(`funding: ${symbol}'s funding interval not available (${(e as Error).message}); 8 h assumed`);
      }
      if (interval !== FUNDING_INTERVAL_MS) io.out(`funding: ${symbol} settles every ${interval / 3_600_000} h (the venue's fundingInterval)`);
    }
    intervals.push(interval);
  }
  return intervals;
}

/**
 * The clock a life of a live run runs on: `wall` (this machine's) or `venue` (the venue's `/v5/market/time` of `apiUrl`,
 * polled every `pollMs`).
 * @throws AppError `invalid_arguments` naming `--clock` for any other value.
 */
function livePacer(clock: string, apiUrl: string | undefined, pollMs: number): Pacer {
  if (clock === 'wall') return new WallPacer();
  if (clock === 'venue') return new PolledPacer(async () => await fetchVenueTime(apiUrl), pollMs);
  throw new AppError('invalid_arguments', `--clock must be wall or venue, was ${JSON.stringify(clock)}`, { clock });
}

/** Bybit's server time (ms) from `/v5/market/time` of `apiUrl` (default api.bybit.com). */
async function fetchVenueTime(apiUrl: string | undefined): Promise<number> {
  const response = await fetch(`${apiUrl ?? 'https://api.bybit.com'}/v5/market/time`, { signal: AbortSignal.timeout(5_000) });
  const body = (await response.json()) as { time?: number };
  if (typeof body.time !== 'number') throw new AppError('venue_time', `${apiUrl}/v5/market/time answered without a time`, {});
  return body.time;
}
