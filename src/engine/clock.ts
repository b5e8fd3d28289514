import type { Clock } from '../core/time.js';

export type { Clock };

/** A clock that only moves when told to: the backtest clock. */
export class TestClock implements Clock {
  private t: number;
  constructor(start = 0) {
    this.t = start;
  }
  now(): number {
    return this.t;
  }
  /** Moves time to `t` (epoch ms). @throws RangeError when `t` is earlier than now. */
  advanceTo(t: number): void {
    if (t < this.t) throw new RangeError(`TestClock cannot go back in time: now ${this.t}, asked ${t}`);
    this.t = t;
  }
}
