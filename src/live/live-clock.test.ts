import { describe, expect, it } from 'vitest';
import { PolledPacer, VirtualTime, WallPacer, type Pacer } from './live-clock.js';

/** A venue clock read through a counter of requests. */
function venueClock(start: number) {
  const c = { time: start, reads: 0, source: async () => (c.reads++, c.time) };
  return c;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('PolledPacer', () => {
  it('reuses a reading for poll-ms real ms (a warm-up asking twice per bar costs one request), then asks again', async () => {
    const clock = venueClock(1_000);
    const pacer = new PolledPacer(clock.source, 1_000);
    expect(await pacer.now()).toBe(1_000);
    clock.time = 2_000;
    expect(await pacer.now()).toBe(1_000); // within poll-ms: the same reading
    expect(await pacer.waitUntil(900)).toBe(true); // already passed by the reading: no request
    expect(clock.reads).toBe(1);
    await sleep(1_010);
    expect(await pacer.now()).toBe(2_000);
    expect(clock.reads).toBe(2);
  });

  it('waits for a time the reading has not reached by asking again every poll-ms (never answering from the old reading)', async () => {
    const clock = venueClock(1_000);
    const pacer = new PolledPacer(clock.source, 5);
    await pacer.now();
    setTimeout(() => (clock.time = 1_500), 30);
    expect(await pacer.waitUntil(1_500)).toBe(true);
    expect(clock.reads).toBeGreaterThanOrEqual(3);
    expect(await pacer.now()).toBe(1_500);
  });

  it('returns false when interrupted while waiting', async () => {
    const clock = venueClock(0);
    const pacer = new PolledPacer(clock.source, 5);
    setTimeout(() => pacer.interrupt(), 20);
    expect(await pacer.waitUntil(1)).toBe(false);
  });

  it('an interrupt while no wait is in progress (a stop while the feed fetches) ends the next wait at once, once', async () => {
    const clock = venueClock(0);
    const pacer = new PolledPacer(clock.source, 5);
    pacer.interrupt();
    expect(await pacer.waitUntil(1_000_000)).toBe(false);
    expect(clock.reads).toBe(0); // not even asked
    setTimeout(() => (clock.time = 10), 20);
    expect(await pacer.waitUntil(10)).toBe(true);
  });

  it('asks again after poll-ms when a reading fails, and gives up with the source’s error after the attempts', async () => {
    let reads = 0;
    const flaky = new PolledPacer(async () => {
      if (++reads <= 2) throw new Error(`timeout ${reads}`);
      return 7_000;
    }, 5);
    expect(await flaky.now()).toBe(7_000);
    expect(reads).toBe(3);
    let tries = 0;
    const down = new PolledPacer(async () => {
      tries++;
      throw new Error('venue down');
    }, 5, 3);
    await expect(down.now()).rejects.toThrow('venue down');
    expect(tries).toBe(3);
  });
});

/** The stop semantics every pacer shares: an interrupt ends the wait in progress, or else the next one, once. */
describe.each([
  ['WallPacer', () => new WallPacer(), () => Date.now()],
  ['VirtualTime', () => new VirtualTime(1_000), () => 1_000],
] as [string, () => Pacer, () => number][])('%s interrupts', (_, make, now) => {
  it('wakes the wait in progress (false); with none in progress the next wait returns false at once, the one after waits', async () => {
    const pacer = make();
    const waiting = pacer.waitUntil(now() + 60_000);
    pacer.interrupt();
    expect(await waiting).toBe(false);
    pacer.interrupt();
    const started = performance.now();
    expect(await pacer.waitUntil(now() + 60_000)).toBe(false);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(await pacer.waitUntil(now() + 30)).toBe(true);
  });
});
