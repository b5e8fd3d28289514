import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mergeStopActions, type StopActions } from '../live/shutdown.js';

/** A stop or kill asked of a live run (`tm live stop|kill`), waiting in its folder's control.json until a life applies it. */
export interface ControlRequest {
  readonly reason: string;
  readonly actions: StopActions;
  /** When it was asked (ms): its id. */
  readonly at: number;
}

/**
 * Saves a control request for the run in `dir` (control.json, written whole: temp file, then rename). A request not
 * done yet is merged in, never dropped: the actions of both, and a kill stays a kill (`tm live stop` after a kill
 * while the run is down, or while it applies the kill, keeps the halt).
 */
export function writeControl(dir: string, request: { readonly command: 'stop' | 'kill'; readonly reason: string; readonly actions: StopActions }): void {
  const path = join(dir, 'control.json');
  const pending = readControl(dir, 'keep');
  const actions = pending === undefined ? request.actions : mergeStopActions(pending.actions, request.actions);
  const keptKill = pending?.actions.halt === true && request.actions.halt !== true;
  const merged = { command: actions.halt === true ? 'kill' : request.command, reason: keptKill ? pending.reason : request.reason, actions };
  writeFileSync(`${path}.tmp`, JSON.stringify({ ...merged, at: Date.now() }));
  renameSync(`${path}.tmp`, path);
}

/**
 * The control request `tm live stop|kill` left for the run, `at` its id. Not removed here: the runner removes it once
 * done ({@link removeControl}), so a process that dies while applying it leaves it for the next start. An unreadable
 * file is no request: removed, or kept (`unreadable` keep: `tm live status` only reads).
 */
export function readControl(dir: string, unreadable: 'remove' | 'keep' = 'remove'): ControlRequest | undefined {
  const path = join(dir, 'control.json');
  if (!existsSync(path)) return undefined;
  try {
    const request = JSON.parse(readFileSync(path, 'utf8')) as { reason: string; actions: StopActions; at?: unknown };
    return { reason: request.reason, actions: request.actions ?? {}, at: typeof request.at === 'number' ? request.at : 0 };
  } catch {
    if (unreadable === 'remove') rmSync(path, { force: true }); // not a request (control.json is written whole, by rename)
    return undefined;
  }
}

/** Removes the control request `at` once the runner is done with it; a newer request (another `at`) stays. */
export function removeControl(dir: string, at: number): void {
  if (readControl(dir)?.at === at) rmSync(join(dir, 'control.json'), { force: true });
}
