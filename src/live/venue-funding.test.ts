import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BYBIT_LINEAR_PERPETUALS } from '../core/instrument.js';
import { Kernel } from '../engine/kernel.js';
import type { VenueFundingReport } from '../engine/venue-reports.js';
import { Journal, readJournal } from './journal.js';
import { LiveClock } from './live-clock.js';
import { FUNDING_MARGIN_MS, VenueFunding } from './venue-funding.js';

const H8 = 8 * 3_600_000;
const T0 = Date.UTC(2024, 0, 1);

function setup() {
  const clock = new LiveClock(T0);
  const kernel = new Kernel({ instruments: [BYBIT_LINEAR_PERPETUALS['BTCUSDT']!, BYBIT_LINEAR_PERPETUALS['ETHUSDT']!], initialCash: 100_000, leverage: 10, runId: 'vf' }, { clock, strategy: { name: 'none' } });
  const path = join(mkdtempSync(join(tmpdir(), 'tm-venue-funding-')), 'journal.jsonl');
  return { kernel, journal: new Journal(path), path };
}

const payment = (id: string, instrument: number, pay: number, ts: number): VenueFundingReport => ({ executionId: id, instrument, quantity: 0.5, rate: pay / (0.5 * 40_000), markPrice: 40_000, payment: pay, tsEvent: ts });

describe('VenueFunding: the venue’s funding payments of a venue run', () => {
  it('books each payment once, at the engine time given, the venue’s own figure, whatever the position; journals each', () => {
    const { kernel, journal, path } = setup();
    const book = new VenueFunding(T0);
    expect(book.since()).toBe(T0 - FUNDING_MARGIN_MS);
    const a = payment('a', 0, 2.5, T0 + H8), b = payment('b', 1, -1.25, T0 + H8);
    expect(book.book(kernel, journal, [a, b], T0 + H8, T0 + H8)).toEqual([a, b]);
    expect(kernel.portfolio.cash).toBe(100_000 - 2.5 + 1.25);
    expect(kernel.fundingEvents.map((e) => [e.instrument, e.payment, e.source, e.position])).toEqual([[0, 2.5, 'venue', 0], [1, -1.25, 'venue', 0]]);
    // listed again (the next ask starts a minute before the newest): not booked twice
    expect(book.since()).toBe(T0 + H8 - FUNDING_MARGIN_MS);
    expect(book.book(kernel, journal, [a, b, payment('c', 0, 3, T0 + 2 * H8)], T0 + 2 * H8, T0 + 2 * H8)).toEqual([payment('c', 0, 3, T0 + 2 * H8)]);
    expect(kernel.portfolio.cash).toBe(100_000 - 2.5 + 1.25 - 3);
    journal.close();
    expect(readJournal(path).records).toEqual([
      { k: 'funding', t: T0 + H8, i: 0, exec: 'a', pay: 2.5, rate: a.rate, p: 40_000, q: 0.5, ts: T0 + H8 },
      { k: 'funding', t: T0 + H8, i: 1, exec: 'b', pay: -1.25, rate: b.rate, p: 40_000, q: 0.5, ts: T0 + H8 },
      { k: 'funding', t: T0 + 2 * H8, i: 0, exec: 'c', pay: 3, rate: 3 / 20_000, p: 40_000, q: 0.5, ts: T0 + 2 * H8 },
    ]);
  });

  it('a payment made after the close the engine decides next (listed to a life behind the venue’s clock) waits until a close reaches it, then books in venue time order', () => {
    const { kernel, journal } = setup();
    const book = new VenueFunding(T0);
    const early = payment('e', 0, 1, T0 + H8), late = payment('l', 1, 2, T0 + 2 * H8);
    // a restart at engine time T0 + 4 h: the venue's clock is at T0 + 16 h already
    expect(book.book(kernel, journal, [late, early], T0 + 4 * 3_600_000, T0 + 4 * 3_600_000)).toEqual([]);
    expect(book.waitingUpTo(T0 + H8 - 1)).toBe(false);
    expect(book.waitingUpTo(T0 + H8)).toBe(true);
    expect(kernel.portfolio.cash).toBe(100_000);
    expect(book.book(kernel, journal, [], T0 + H8 - 4 * 3_600_000, T0 + H8)).toEqual([early]);
    // listed again meanwhile: still one payment
    expect(book.book(kernel, journal, [early, late], T0 + H8, T0 + H8 + 4 * 3_600_000)).toEqual([]);
    expect(book.book(kernel, journal, [], T0 + 2 * H8 - 4 * 3_600_000, T0 + 2 * H8)).toEqual([late]);
    expect(kernel.portfolio.cash).toBe(100_000 - 3);
    expect(book.waitingUpTo(Infinity)).toBe(false);
    journal.close();
  });

  it('a payment before the run’s asking time is not the run’s; saved and restored, the book asks from where it was and books nothing twice', () => {
    const { kernel, journal } = setup();
    const book = new VenueFunding(T0 + H8);
    expect(book.book(kernel, journal, [payment('old', 0, 9, T0)], T0 + H8, T0 + H8)).toEqual([]);
    book.book(kernel, journal, [payment('a', 0, 2, T0 + H8)], T0 + H8, T0 + H8);
    const saved = JSON.parse(JSON.stringify(book.save())) as ReturnType<VenueFunding['save']>;
    expect(saved).toEqual({ from: T0 + H8, booked: [['a', T0 + H8]] });
    const again = new VenueFunding(T0, saved); // a restart: the saved cursor wins over the start time
    expect(again.since()).toBe(T0 + H8 - FUNDING_MARGIN_MS);
    expect(again.book(kernel, journal, [payment('a', 0, 2, T0 + H8), payment('b', 0, 1, T0 + 2 * H8)], T0 + 2 * H8, T0 + 2 * H8).map((r) => r.executionId)).toEqual(['b']);
    // ids older than the asking time are forgotten (never listed again)
    expect(again.save().booked).toEqual([['b', T0 + 2 * H8]]);
    journal.close();
  });
});
