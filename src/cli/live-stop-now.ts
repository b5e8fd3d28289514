import { join } from 'node:path';
import { resolveBybitEnvironment } from '../adapters/bybit/index.js';
import { experimentVenueModels, type ExperimentConfig } from '../backtest/run-experiment.js';
import { AppError } from '../core/app-error.js';
import { WallPacer, type Pacer } from '../live/live-clock.js';
import { LIVE_MODES, LiveRunner, type LiveMode, type LiveRunSummary } from '../live/live-runner.js';
import type { LiveBarFeed } from '../live/bar-feed.js';
import { readJournal, type JournalRecord } from '../live/journal.js';
import { readControl, removeControl } from './live-control-file.js';
import { createBybitVenue, preparing, type VenueFlags } from './live-venue-client.js';
import type { CliIo } from './output.js';

/** A feed that has no bar: a life that only applies a stop asks none (it ends before its first bar). */
const NO_BARS = { next: async () => undefined } as unknown as LiveBarFeed;

/**
 * Applies the stop or kill saved in control.json of a run that is not running, now (`tm live stop|kill --now`), in a
 * short life of the run: its saved state, the reconciliation with the venue (nothing is sent unreconciled), the
 * request's cancels, flatten and halt, the wait for the venue's answers, the state saved and the request removed, as
 * the next start would apply it before its first bar. No warm-up, no bar, no strategy decision: the life ends before
 * its first bar, so neither the experiment file, its model nor the store is needed. The run's experiment, mode,
 * strategy and instruments come from the journal's last start record; the venue's keys from the environment or
 * `--key-file`; mainnet needs its switches as a start does. `stopWaitMs`: how long it waits for the venue's answers;
 * `pacer`: the life's clock (default the wall clock; `--clock venue` for a local venue on a fast clock), which a run
 * with no saved state (its lives died before their first bar) takes its last bar from.
 * @throws AppError `not_found` when the folder has no journal with a start record that names its experiment.
 */
export async function applyStopNow(dir: string, flags: VenueFlags, io: CliIo, options: { readonly stopWaitMs?: number; readonly pacer?: Pacer } = {}): Promise<LiveRunSummary> {
  const path = join(dir, 'journal.jsonl');
  const start = readJournal(path).records.findLast((r): r is Extract<JournalRecord, { k: 'start' }> => r.k === 'start');
  if (start === undefined || start.config === undefined) {
    throw new AppError('not_found', `${path} has no start record with the run's experiment: start the run (tm live --experiment <file>) to apply the request`, { path });
  }
  if (!(LIVE_MODES as readonly string[]).includes(start.mode)) throw new AppError('invalid_arguments', `${path}: the start record's mode must be one of ${LIVE_MODES.join(', ')}, was ${JSON.stringify(start.mode)}`, { path, mode: start.mode });
  const mode = start.mode as LiveMode;
  if (mode !== 'paper') resolveBybitEnvironment({ testnet: mode === 'testnet', mainnet: mode === 'mainnet', acceptRealMoney: flags.iAcceptRealMoney === true }, process.env);
  const config = start.config as ExperimentConfig;
  const models = experimentVenueModels(config);
  const request = readControl(dir, 'keep');
  if (request === undefined) throw new AppError('not_found', `${join(dir, 'control.json')}: no stop or kill request to apply`, { dir });
  const venue = mode === 'paper' ? undefined : createBybitVenue(mode, flags, models, io);
  try {
    const runner = new LiveRunner(
      {
        runId: start.runId, mode, instruments: models.instruments, timeframe: start.timeframe, initialCash: config.initialCash, leverage: config.leverage, dir,
        warmupBars: 0,
        ...(options.stopWaitMs !== undefined ? { stopWaitMs: options.stopWaitMs } : {}),
        ...(mode === 'paper' ? { paper: { fees: models.fees, slippage: models.slippage } } : {}),
        config: start.config,
        ...(start.regimes !== undefined ? { regimes: start.regimes } : {}),
        ...(config.risk !== undefined ? { risk: config.risk } : {}),
      },
      // The strategy's name only: the saved state is checked against it, and the life decides nothing.
      { feed: NO_BARS, pacer: options.pacer ?? new WallPacer(), strategy: { name: start.strategy }, ...(venue ? { venue, venueReady: preparing(venue) } : {}), log: (line) => io.out(line), stopDone: (at) => removeControl(dir, at) },
    );
    runner.stop(request.reason, request.actions, request.at);
    return await runner.run();
  } finally {
    await venue?.close();
  }
}
