import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BYBIT_LINEAR_PERPETUALS } from '../core/instrument.js';
import type { ExecutionClient } from '../engine/execution-client.js';
import { Kernel } from '../engine/kernel.js';
import type { VenueBalanceReport, VenueFillReport, VenueOrderReport, VenuePositionReport, VenueQueries } from '../engine/venue-reports.js';
import { Journal } from './journal.js';
import { JournalingGate } from './journaling-gate.js';
import { LiveClock } from './live-clock.js';
import { reconcile } from './reconcile.js';

/** Venue queries answered only when the test says so: shows which were asked before any answer came. */
class HeldVenue implements VenueQueries {
  readonly asked: string[] = [];
  private readonly answers: (() => void)[] = [];
  constructor(private readonly books: { fills: VenueFillReport[]; open: VenueOrderReport[]; positions: VenuePositionReport[]; balance: VenueBalanceReport }) {}
  private held<T>(name: string, value: T): Promise<T> {
    this.asked.push(name);
    return new Promise((resolve) => this.answers.push(() => resolve(value)));
  }
  answerAll(): void {
    for (const a of this.answers.splice(0).reverse()) a(); // answered in the reverse order of asking
  }
  executionsSince = () => this.held('executions', this.books.fills);
  openOrders = () => this.held('openOrders', this.books.open);
  positions = () => this.held('positions', this.books.positions);
  balance = () => this.held('balance', this.books.balance);
  queryOrder = async () => undefined;
}

const nullClient: ExecutionClient = { connect() {}, submit() {}, cancel() {} };

describe('reconcile', () => {
  it('asks for the four listings at once, then applies them in order: the missed fill is booked before positions are compared', async () => {
    const clock = new LiveClock(1_000);
    const instruments = [BYBIT_LINEAR_PERPETUALS['BTCUSDT']!];
    const kernel = new Kernel({ instruments, initialCash: 100_000, leverage: 10, runId: 'rc' }, { clock, strategy: { name: 'none' } });
    const journal = new Journal(join(mkdtempSync(join(tmpdir(), 'tm-reconcile-')), 'journal.jsonl'));
    const gate = new JournalingGate(nullClient, journal, () => clock.now());
    kernel.attachExecution(gate);
    const fill: VenueFillReport = { instrument: 0, clientOrderId: 'rc_1', side: 'buy', quantity: 0.5, price: 100, fee: 0, liquidity: 'taker', tsEvent: 900, tsInit: 1_000, executionId: 'x1' };
    const venue = new HeldVenue({ fills: [fill], open: [], positions: [{ instrument: 0, quantity: 0.5, averagePrice: 100, tsEvent: 900 }], balance: { currency: 'USDT', walletBalance: 100_000, equity: 100_000, available: 100_000, tsEvent: 900 } });
    const done = reconcile(kernel, gate, venue, { prefix: 'rc_', sinceMs: 0, journal });
    await new Promise((r) => setImmediate(r));
    expect(venue.asked.sort()).toEqual(['balance', 'executions', 'openOrders', 'positions']); // all asked, none answered yet
    venue.answerAll();
    const differences = await done;
    journal.close();
    expect(differences.map((d) => d.kind)).toEqual(['missed_fill']); // no position_mismatch: the fill was booked first
    expect(kernel.position(0)).toBe(0.5);
    expect(kernel.risk.isInstrumentHalted(0)).toBe(false);
  });
});
