import { describe, expect, it } from 'vitest';
import { TestClock } from './clock.js';

describe('TestClock', () => {
  it('starts at its start time (default 0) and moves only when told, never back', () => {
    expect(new TestClock().now()).toBe(0);
    const clock = new TestClock(1_700_000_000_000);
    expect(clock.now()).toBe(1_700_000_000_000);
    clock.advanceTo(1_700_000_000_000); // staying put is allowed
    clock.advanceTo(1_700_000_060_000);
    expect(clock.now()).toBe(1_700_000_060_000);
    expect(() => clock.advanceTo(1_700_000_059_999)).toThrow(new RangeError('TestClock cannot go back in time: now 1700000060000, asked 1700000059999'));
    expect(clock.now()).toBe(1_700_000_060_000);
  });

  it('advanceToTime moves to a column time plus an offset, with the same guard', () => {
    const times = new Float64Array([1_700_000_000_000, 1_700_000_060_000]);
    const clock = new TestClock(1_700_000_000_000);
    clock.advanceToTime(times, 0, 0);
    expect(clock.now()).toBe(1_700_000_000_000);
    clock.advanceToTime(times, 1, 60_000);
    expect(clock.now()).toBe(1_700_000_120_000);
    expect(() => clock.advanceToTime(times, 1, 0)).toThrow(new RangeError('TestClock cannot go back in time: now 1700000120000, asked 1700000060000'));
    expect(clock.now()).toBe(1_700_000_120_000);
  });
});
