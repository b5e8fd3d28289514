import type { Clock } from '../core/time.js';

export type { Clock };

/** A clock that only moves when told to: the backtest clock. */
export class TestClock implements Clock {
  // A typed-array cell: storing a new time never allocates (an object field holding a double may box it).
  private readonly t = new Float64Array(1);
  constructor(start = 0) {
    this.t[0] = start;
  }
  now(): number {
    return this.t[0]!;
  }
  /** Moves time to `t` (epoch ms). @throws RangeError when `t` is earlier than now. */
  advanceTo(t: number): void {
    if (t < this.t[0]!) throw this.backInTime(t);
    this.t[0] = t;
  }
  /**
   * Moves time to `times[k] + offset` (a bar loop's form of {@link advanceTo}): the time stays a double inside this
   * call. Read from a column and passed as an argument to a call that is not inlined, it is boxed: one allocation per
   * bar in a loop that inlines too much to inline this too.
   * @throws RangeError when that time is earlier than now.
   */
  advanceToTime(times: Float64Array, k: number, offset: number): void {
    const t = times[k]! + offset;
    if (t < this.t[0]!) throw this.backInTime(t);
    this.t[0] = t;
  }
  private backInTime(t: number): RangeError {
    return new RangeError(`TestClock cannot go back in time: now ${this.t[0]}, asked ${t}`);
  }
}
