import type { Clock } from '../core/time.js';

/**
 * The engine clock of a live run: engine time is the time of the event being processed (a bar's close, a venue
 * event), never the wall clock. Decisions made at a bar close are stamped with that close in live runs exactly as in
 * backtests, so their deterministic client order ids are the same in both and the same again after a restart (the
 * venue then refuses the duplicate instead of taking a second order). Time never goes back: an older event leaves
 * it where it is.
 */
export class LiveClock implements Clock {
  private readonly t = new Float64Array(1);
  constructor(start = 0) {
    this.t[0] = start;
  }
  now(): number {
    return this.t[0]!;
  }
  /** Moves engine time to `t` when that is later than now (returns whether it moved). */
  advanceTo(t: number): boolean {
    if (!(t > this.t[0]!)) return false;
    this.t[0] = t;
    return true;
  }
}

/**
 * Wall time and waiting, for the scheduler of a live run (when to poll for the next closed bar). Production uses
 * {@link WallPacer}; tests and notebooks run the same runner on a fast clock ({@link VirtualTime}), or on the venue's
 * own clock ({@link PolledPacer}) when the venue's time is driven by a test in another process.
 */
export interface Pacer {
  /** Current wall time (epoch ms). */
  now(): Promise<number>;
  /** Resolves once wall time is at or after `t`, or earlier when {@link interrupt} is called (returns false then). */
  waitUntil(t: number): Promise<boolean>;
  /**
   * Wakes the {@link waitUntil} in progress (a stop request); with none in progress, the next one returns false at
   * once: a stop that arrives between two waits (while the feed fetches) is not lost.
   */
  interrupt(): void;
}

/** Real time: `Date.now()` and timers. */
export class WallPacer implements Pacer {
  private wake: (() => void) | undefined;
  /** An interrupt no wait took yet. */
  private pendingInterrupt = false;
  async now(): Promise<number> {
    return Date.now();
  }
  waitUntil(t: number): Promise<boolean> {
    if (this.pendingInterrupt) {
      this.pendingInterrupt = false;
      return Promise.resolve(false);
    }
    const ms = t - Date.now();
    if (ms <= 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve(true);
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve(false);
      };
    });
  }
  interrupt(): void {
    if (this.wake !== undefined) this.wake();
    else this.pendingInterrupt = true;
  }
}

/**
 * A fast clock: waiting jumps time forward at once (after yielding to pending I/O), so a live run over months of 4h
 * bars takes seconds. Share one instance between the runner and a local venue (its `now`) so both see the same time.
 */
export class VirtualTime implements Pacer {
  private t: number;
  private stopped = false;
  constructor(start: number) {
    this.t = start;
  }
  /** Synchronous read, for a local venue's clock. */
  current(): number {
    return this.t;
  }
  async now(): Promise<number> {
    return this.t;
  }
  async waitUntil(t: number): Promise<boolean> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (this.stopped) {
      this.stopped = false;
      return false;
    }
    if (t > this.t) this.t = t;
    return true;
  }
  interrupt(): void {
    this.stopped = true;
  }
}

/**
 * Wall time read from a source (the venue's `/v5/market/time`) and polled every `pollMs` real milliseconds while
 * waiting: a run whose venue clock is driven by someone else (a crash test advancing the local venue's time).
 * A reading is reused for `pollMs` real ms (what a clock polled every `pollMs` shows anyway): a restart's warm-up asks
 * for the time twice per replayed bar, which would otherwise be two requests per bar. A reading that fails is asked
 * for again after `pollMs`, up to `attempts` times in all ({@link now}; {@link waitUntil} keeps asking until it is
 * interrupted): one request the venue did not answer in time must not stop a run.
 */
export class PolledPacer implements Pacer {
  private wake: (() => void) | undefined;
  /** An interrupt no wait took yet. */
  private pendingInterrupt = false;
  /** The last reading and the `performance.now()` at which it was asked for. */
  private reading: { readonly time: number; readonly at: number } | undefined;
  constructor(
    private readonly source: () => Promise<number>,
    private readonly pollMs: number,
    private readonly attempts = 5,
  ) {}
  /** The venue's time (a reading younger than `pollMs` is reused). @throws the source's last error after `attempts` failed readings. */
  async now(): Promise<number> {
    const r = this.reading;
    if (r !== undefined && performance.now() - r.at < this.pollMs) return r.time;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.read();
      } catch (e) {
        if (attempt >= this.attempts) throw e;
        await new Promise<void>((resolve) => setTimeout(resolve, this.pollMs));
      }
    }
  }
  async waitUntil(t: number): Promise<boolean> {
    if (this.pendingInterrupt) {
      this.pendingInterrupt = false;
      return false;
    }
    let interrupted = false;
    this.wake = () => {
      interrupted = true;
    };
    try {
      for (let first = true; ; first = false) {
        if (interrupted) return false;
        let now: number;
        try {
          now = first ? await this.now() : await this.read(); // after a wait, always a new reading
        } catch {
          now = -Infinity; // the venue did not answer: try again after the poll interval
        }
        if (now >= t) return true;
        await new Promise<void>((resolve) => setTimeout(resolve, this.pollMs));
      }
    } finally {
      this.wake = undefined;
    }
  }
  interrupt(): void {
    if (this.wake !== undefined) this.wake();
    else this.pendingInterrupt = true;
  }
  private async read(): Promise<number> {
    const at = performance.now();
    const time = await this.source();
    this.reading = { time, at };
    return time;
  }
}
