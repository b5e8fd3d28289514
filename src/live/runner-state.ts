import { existsSync, readFileSync } from 'node:fs';
import { AppError } from '../core/app-error.js';
import { writeFileDurable } from '../core/durable-file.js';
import type { SimulatedVenueState } from '../backtest/simulated-execution-client.js';
import type { KernelState } from '../engine/kernel.js';
import type { VenueFundingState } from './venue-funding.js';

/**
 * What a live runner persists after every bar (state.json in its run folder, replaced atomically): enough to start
 * again after a crash — the kernel's orders, account, trade tracker and id sequence (bar histories are not stored:
 * they are fetched again and replayed through the strategy as warm-up), the last bar processed, the execution ids
 * booked and the paper venue's books.
 */
export interface LiveRunnerState {
  readonly version: 1;
  readonly runId: string;
  readonly mode: string;
  readonly strategy: string;
  readonly instruments: readonly string[];
  readonly timeframe: string;
  /** Open time of the last bar processed (live, not warm-up). */
  readonly lastBarTs: number;
  readonly liveBars: number;
  readonly kernel: KernelState;
  readonly paperVenue?: SimulatedVenueState;
  readonly bookedExecutions: readonly string[];
  /** Venue time of the newest booked execution; null before the first. */
  readonly lastExecutionTs: number | null;
  /** Instruments the venue breaker halted (released when it closes); absent = none. */
  readonly breakerHalted?: readonly number[];
  /**
   * The venue breaker is open (absent: closed, or open with halts of its own in states saved before this field). It can
   * be open with nothing in {@link breakerHalted}: it opened while every instrument was halted for another reason.
   */
  readonly breakerOpen?: boolean;
  /**
   * Orders the run declared lost (sent, then unknown to the venue after its in-flight queries), kept until the operator
   * restarts with `--unhalt`: `tm live status` lists them in every later life. Absent = none (and in older states).
   */
  readonly lostOrders?: readonly LostOrder[];
  /**
   * The saved stop request (control.json's `at`) whose action the run applied last: a start handed the same request
   * (its removal did not happen before the process ended) does not apply it again. Absent = none.
   */
  readonly appliedStop?: number;
  /** The venue's funding payments booked (venue runs; absent in paper runs and older states: asked from the restored bar on). */
  readonly venueFunding?: VenueFundingState;
  /**
   * Paper runs: per instrument, the last funding settlement the run settled (FundingSchedule.lastSettled); the next life
   * settles from there. Absent in venue runs and older states (settled from the restored bar on).
   */
  readonly paperFunding?: { readonly lastSettled: readonly number[] };
  /** Size of the journal (bytes, synced) when this state was saved: what a restart reads after it. Absent in older states (read from the start). */
  readonly journalBytes?: number;
  readonly savedAt: number;
}

/**
 * An order declared lost: its client order id, instrument id, engine time of the declaration and why; `found` once the
 * venue reported it after all (engine time, and the order's status then).
 */
export interface LostOrder {
  readonly id: string;
  readonly instrument: string;
  readonly ts: number;
  readonly reason: string;
  readonly found?: { readonly ts: number; readonly status: string };
}

export type RunnerStateErrorCode = 'runner_state_corrupt' | 'runner_state_mismatch' | 'runner_state_write_failed';
export class RunnerStateError extends AppError<RunnerStateErrorCode> {}

/** Writes a file of the run folder atomically (see core's `writeFileDurable`). @throws RunnerStateError `runner_state_write_failed`. */
export function writeRunnerFile(path: string, text: string): void {
  try {
    writeFileDurable(path, text);
  } catch (e) {
    throw new RunnerStateError('runner_state_write_failed', `cannot write ${path}: ${(e as Error).message}`, { path }, { cause: e });
  }
}

export function saveRunnerState(path: string, state: LiveRunnerState): void {
  writeRunnerFile(path, JSON.stringify(state));
}

/**
 * Reads the state of a run (undefined when the run never saved one) and checks it belongs to the same run setup.
 * @throws RunnerStateError `runner_state_corrupt` (unreadable), `runner_state_mismatch` naming the field that differs.
 */
export function loadRunnerState(path: string, expect: { readonly runId: string; readonly mode: string; readonly strategy: string; readonly instruments: readonly string[]; readonly timeframe: string }): LiveRunnerState | undefined {
  if (!existsSync(path)) return undefined;
  let state: LiveRunnerState;
  try {
    state = JSON.parse(readFileSync(path, 'utf8')) as LiveRunnerState;
  } catch (e) {
    throw new RunnerStateError('runner_state_corrupt', `runner state ${path} is not valid JSON: ${(e as Error).message}`, { path }, { cause: e });
  }
  if (state === null || typeof state !== 'object' || state.version !== 1) {
    throw new RunnerStateError('runner_state_corrupt', `runner state ${path} must have version 1, was ${JSON.stringify((state as { version?: unknown } | null)?.version)}`, { path });
  }
  for (const field of ['runId', 'mode', 'strategy', 'timeframe'] as const) {
    if (state[field] !== expect[field]) {
      throw new RunnerStateError('runner_state_mismatch', `runner state ${path} belongs to ${field} ${JSON.stringify(state[field])}, this run has ${JSON.stringify(expect[field])}: use another run id or folder`, { path, field, saved: state[field], expected: expect[field] });
    }
  }
  if (state.instruments.join(',') !== expect.instruments.join(',')) {
    throw new RunnerStateError('runner_state_mismatch', `runner state ${path} trades ${state.instruments.join(', ')}, this run ${expect.instruments.join(', ')}`, { path, field: 'instruments' });
  }
  return state;
}
