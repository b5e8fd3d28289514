import { describe, expect, it } from 'vitest';
import { Timers } from './timers.js';

/** Fires the timers due at `now` and returns their names in firing order. */
function fire(timers: Timers, now: number): string[] {
  const fired: string[] = [];
  timers.fireDue(now, (name) => void fired.push(name));
  return fired;
}

describe('Timers', () => {
  it('fires every timer due at or before now, earliest first, ties in the order they were set; later ones stay pending', () => {
    const timers = new Timers();
    expect(timers.size).toBe(0);
    timers.set('c', 30);
    timers.set('a', 10);
    timers.set('late', 31);
    timers.set('b1', 20);
    timers.set('b2', 20);
    timers.set('a2', 10);
    expect(timers.size).toBe(6);
    expect(fire(timers, 9)).toEqual([]);
    expect(timers.size).toBe(6);
    expect(fire(timers, 30)).toEqual(['a', 'a2', 'b1', 'b2', 'c']);
    expect(timers.size).toBe(1);
    expect(fire(timers, 30)).toEqual([]);
    expect(fire(timers, 31)).toEqual(['late']);
    expect(timers.size).toBe(0);
    expect(fire(timers, 100)).toEqual([]);
  });

  it('a timer is one-shot: the same name set twice fires twice, each at its own time', () => {
    const timers = new Timers();
    timers.set('rebalance', 5);
    timers.set('rebalance', 2);
    expect(fire(timers, 4)).toEqual(['rebalance']);
    expect(fire(timers, 5)).toEqual(['rebalance']);
    expect(timers.size).toBe(0);
  });

  it('a timer set while firing fires in the same call when it is already due (after those due earlier), else later', () => {
    const timers = new Timers();
    timers.set('first', 10);
    timers.set('second', 12);
    const fired: string[] = [];
    timers.fireDue(20, (name) => {
      fired.push(name);
      if (name === 'first') {
        timers.set('due-now', 11);
        timers.set('future', 21);
      }
    });
    expect(fired).toEqual(['first', 'due-now', 'second']);
    expect(timers.size).toBe(1);
    expect(fire(timers, 21)).toEqual(['future']);
  });
});
