import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SweepError, type TrialJob, type TrialResult } from '../sweep/index.js';
import type { MarketStore } from '../data/index.js';
import { runTrial } from './sweep-job.js';

/** Runs trial jobs: in this process ({@link InProcessRunner}) or in a pool of child processes ({@link TrialPool}). */
export interface TrialRunner {
  /** Slots that run at once. */
  readonly size: number;
  /** Runs one job; rejects with the job's error. `ms` is the job function's own wall time. */
  run(job: TrialJob): Promise<{ readonly result: TrialResult; readonly ms: number }>;
  close(): Promise<void>;
}

/** Runs jobs one after the other in this process, on an open store (the sequential reference path). */
export class InProcessRunner implements TrialRunner {
  readonly size = 1;
  private chain: Promise<unknown> = Promise.resolve();
  constructor(private readonly store: MarketStore) {}
  run(job: TrialJob): Promise<{ result: TrialResult; ms: number }> {
    const next = this.chain.then(async () => {
      const t0 = performance.now();
      const result = await runTrial(job, this.store);
      return { result, ms: performance.now() - t0 };
    });
    this.chain = next.catch(() => undefined);
    return next;
  }
  async close(): Promise<void> {
    await this.chain;
  }
}

/** Messages between {@link TrialPool} and its children (src/cli/sweep-child.ts). */
export type ChildRequest = { readonly id: number; readonly job: TrialJob };
export type ChildReply = { readonly id: number; readonly ok: true; readonly result: TrialResult; readonly ms: number } | { readonly id: number; readonly ok: false; readonly error: string };

interface Slot {
  child: ChildProcess;
  busy: { id: number; resolve: (v: { result: TrialResult; ms: number }) => void; reject: (e: Error) => void } | null;
}

/**
 * The file and node flags of a child: the compiled `sweep-child.js` next to this module, or the TypeScript source run
 * through tsx's loader when this module itself runs from source (tests, `npm run tm`).
 */
function childEntry(): { file: string; execArgv: string[] } {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    const loader = pathToFileURL(createRequire(here).resolve('tsx')).href;
    return { file: fileURLToPath(new URL('./sweep-child.ts', here)), execArgv: ['--import', loader] };
  }
  return { file: fileURLToPath(new URL('./sweep-child.js', here)), execArgv: [] };
}

/**
 * A pool of `size` child processes, each running the same job function on its own READ_ONLY handle of the market store
 * (`dbPath`; DuckDB lets any number of read-only processes share the file). CPU-heavy backtests thus never block this
 * process's event loop (a BullMQ worker keeps renewing its job locks). A child that dies mid-job fails that job
 * (`worker_exited`) and is replaced. Children exit when this process goes (their IPC channel closes).
 */
export class TrialPool implements TrialRunner {
  private readonly slots: Slot[] = [];
  private readonly waiting: { request: ChildRequest; resolve: (v: { result: TrialResult; ms: number }) => void; reject: (e: Error) => void }[] = [];
  private nextId = 1;
  private closed = false;

  constructor(readonly size: number, private readonly dbPath: string) {
    if (!(Number.isInteger(size) && size >= 1)) throw new SweepError('invalid_config', `--workers must be an integer >= 1 for a pool, was ${size}`, { workers: size });
  }

  run(job: TrialJob): Promise<{ result: TrialResult; ms: number }> {
    if (this.closed) return Promise.reject(new SweepError('worker_exited', 'the trial pool is closed'));
    return new Promise((resolve, reject) => {
      this.waiting.push({ request: { id: this.nextId++, job }, resolve, reject });
      this.dispatch();
    });
  }

  private spawn(): Slot {
    const { file, execArgv } = childEntry();
    const child = fork(file, [this.dbPath], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const slot: Slot = { child, busy: null };
    child.on('message', (message: ChildReply) => {
      const busy = slot.busy;
      if (busy === null || busy.id !== message.id) return;
      slot.busy = null;
      if (message.ok) busy.resolve({ result: message.result, ms: message.ms });
      else busy.reject(new SweepError('trial_failed', message.error));
      this.dispatch();
    });
    child.on('exit', (code, signal) => {
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots.splice(i, 1);
      const busy = slot.busy;
      slot.busy = null;
      if (busy) busy.reject(new SweepError('worker_exited', `trial worker process ${child.pid} exited mid-job (${signal ?? `code ${code}`})`, { pid: child.pid }));
      if (!this.closed) this.dispatch();
    });
    this.slots.push(slot);
    return slot;
  }

  private dispatch(): void {
    while (this.waiting.length > 0) {
      let slot = this.slots.find((s) => s.busy === null && s.child.connected);
      if (!slot && this.slots.length < this.size) slot = this.spawn();
      if (!slot) return;
      const next = this.waiting.shift()!;
      slot.busy = { id: next.request.id, resolve: next.resolve, reject: next.reject };
      slot.child.send(next.request);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiting.splice(0)) w.reject(new SweepError('worker_exited', 'the trial pool was closed before the job started'));
    await Promise.all(
      this.slots.map(
        (s) =>
          new Promise<void>((resolve) => {
            if (s.child.exitCode !== null || s.child.signalCode !== null) return resolve();
            s.child.once('exit', () => resolve());
            s.child.disconnect();
          }),
      ),
    );
  }
}

/**
 * Runs `attempt` up to `attempts` times, waiting `backoffMs × 2^(k-1)` after failed attempt k (BullMQ's exponential
 * back-off, so the local and the queued paths retry alike). Returns the value and the attempts taken, or throws the
 * last error with `attempts` set on it.
 */
export async function withRetry<T>(attempt: () => Promise<T>, attempts: number, backoffMs: number, sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))): Promise<{ value: T; attempts: number }> {
  for (let k = 1; ; k++) {
    try {
      return { value: await attempt(), attempts: k };
    } catch (e) {
      if (k >= attempts) throw Object.assign(e as Error, { attempts: k });
      await sleep(backoffMs * 2 ** (k - 1));
    }
  }
}
