import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BYBIT_LINEAR_PERPETUALS } from '../core/instrument.js';
import type { OrderCommand } from '../core/order.js';
import type { ExecutionClient } from '../engine/execution-client.js';
import { Kernel, type KernelState } from '../engine/kernel.js';
import type { VenueBalanceReport, VenueFillReport, VenueOrderReport, VenuePositionReport, VenueQueries } from '../engine/venue-reports.js';
import { Journal, readJournal } from './journal.js';
import { JournalingGate } from './journaling-gate.js';
import { LiveClock } from './live-clock.js';
import { bookExecutions, reconcile, settleOrder, untrackedExecutionsFrom } from './reconcile.js';
import { VenueFunding } from './venue-funding.js';

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
  fundingSince = async () => [];
}

const nullClient: ExecutionClient = { connect() {}, submit() {}, cancel() {} };

/** A live runner's kernel (BTCUSDT, run `rc`) at engine time `now`, its journal and the journaling gate it sends through. */
function liveKernel(now: number) {
  const clock = new LiveClock(now);
  const kernel = new Kernel({ instruments: [BYBIT_LINEAR_PERPETUALS['BTCUSDT']!], initialCash: 100_000, leverage: 10, runId: 'rc' }, { clock, strategy: { name: 'none' } });
  const journal = new Journal(join(mkdtempSync(join(tmpdir(), 'tm-reconcile-')), 'journal.jsonl'));
  const gate = new JournalingGate(nullClient, journal, () => clock.now());
  kernel.attachExecution(gate);
  return { kernel, journal, gate };
}

describe('reconcile', () => {
  it('asks for the four listings at once, then applies them in order: the missed fill is booked before positions are compared', async () => {
    const { kernel, journal, gate } = liveKernel(1_000);
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

  /** A kernel holding order `rc_x` (buy 0.5, created at 2 000) accepted, as a life that adopted it after a crash. */
  function withAdopted() {
    const { kernel, journal, gate } = liveKernel(20_000);
    kernel.adoptOrder({ instrument: 0, side: 'buy', type: 'market', quantity: 0.5, clientOrderId: 'rc_x' }, 2_000);
    gate.onOrderAccepted({ kind: 'accepted', clientOrderId: 'rc_x', venueOrderId: 'v1', tsEvent: 2_000 });
    return { kernel, journal, gate };
  }

  it('books the fills of an order it holds that the venue filled before the execution cursor (missed_fill, not fills_missing and a halt)', async () => {
    // rc_x filled at 3 000; a later execution (another order's, at 9 000) moved the cursor past it. The venue lists
    // executions by time: the query from the cursor (8 940) does not show rc_x's.
    const { kernel, journal, gate } = withAdopted();
    const x: VenueFillReport = { instrument: 0, clientOrderId: 'rc_x', side: 'buy', quantity: 0.5, price: 100, fee: 0, liquidity: 'taker', tsEvent: 3_000, tsInit: 3_000, executionId: 'x1' };
    const asked: number[] = [];
    const venue: VenueQueries = {
      executionsSince: async (ms) => (asked.push(ms), [x].filter((f) => f.tsEvent >= ms)),
      fundingSince: async () => [],
      openOrders: async () => [],
      queryOrder: async (id) => (id === 'rc_x' ? { clientOrderId: 'rc_x', instrument: 0, side: 'buy', type: 'market', timeInForce: 'GTC', quantity: 0.5, price: Number.NaN, reduceOnly: false, status: 'FILLED', filledQuantity: 0.5, averageFillPrice: 100, tsEvent: 3_000, venueOrderId: 'v1' } : undefined),
      positions: async () => [{ instrument: 0, quantity: 0.5, averagePrice: 100, tsEvent: 3_000 }],
      balance: async () => ({ currency: 'USDT', walletBalance: 100_000, equity: 100_000, available: 100_000, tsEvent: 3_000 }),
    };
    const differences = await reconcile(kernel, gate, venue, { prefix: 'rc_', sinceMs: 8_940, journal });
    journal.close();
    expect(asked).toEqual([8_940, 2_000 - 60_000]); // the cursor, then from a minute before rc_x was created
    expect(differences).toEqual([{ kind: 'missed_fill', detail: { id: 'rc_x', execution: 'x1', quantity: 0.5, price: 100 } }]);
    expect(kernel.order('rc_x')!.status).toBe('FILLED');
    expect(kernel.position(0)).toBe(0.5);
    expect(kernel.risk.isInstrumentHalted(0)).toBe(false);
  });

  it('a venue run books the venue’s funding payments since its cursor (asked with the rest) before the balance is compared: no balance difference', async () => {
    const pay = { executionId: 'f1', instrument: 0, quantity: 0.5, rate: 0.001, markPrice: 50_000, payment: 25, tsEvent: 28_800_000 };
    const books = (funding: VenueFunding | undefined) => {
      const asked: number[] = [];
      const calls: string[] = [];
      const venue: VenueQueries = {
        executionsSince: async (ms) => (calls.push(`fills from ${ms}`), []),
        fundingSince: async (ms) => (calls.push(`payments from ${ms}`), asked.push(ms), [pay].filter((p) => p.tsEvent >= ms)),
        openOrders: async () => [],
        queryOrder: async () => undefined,
        positions: async () => [],
        balance: async () => ({ currency: 'USDT', walletBalance: 100_000 - 25, equity: 100_000 - 25, available: 100_000 - 25, tsEvent: 30_000_000 }),
      };
      return { venue, asked, calls, funding };
    };
    const withBook = liveKernel(30_000_000);
    const a = books(new VenueFunding(0));
    const differences = await reconcile(withBook.kernel, withBook.gate, a.venue, { prefix: 'rc_', sinceMs: 0, journal: withBook.journal, funding: a.funding! });
    withBook.journal.close();
    expect(a.asked).toEqual([-60_000]);
    // The earlier of the two asks of the execution list first: the adapter's listing for it serves the later one too.
    expect(a.calls).toEqual(['payments from -60000', 'fills from 0']);
    expect(differences).toEqual([]);
    expect(withBook.kernel.portfolio.cash).toBe(100_000 - 25);
    expect(readJournal(withBook.journal.path).records.filter((r) => r.k === 'funding')).toEqual([{ k: 'funding', t: 30_000_000, i: 0, exec: 'f1', pay: 25, rate: 0.001, p: 50_000, q: 0.5, ts: 28_800_000 }]);
    // without a funding book (before: every venue run) the wallet is 25 below the runner's cash
    const without = liveKernel(30_000_000);
    const b = books(undefined);
    expect((await reconcile(without.kernel, without.gate, b.venue, { prefix: 'rc_', sinceMs: 0, journal: without.journal })).map((d) => d.kind)).toEqual(['balance_mismatch']);
    without.journal.close();
    expect(b.asked).toEqual([]);
  });

  it('a fresh funding book begins at the first execution of the run its reconciliation books (a first life that traded and died before saving): the payments on that position are the run’s, an earlier one by hand is not', async () => {
    const H = 3_600_000;
    // The dead first life's order rc_1 filled at 90 h; the new life (no saved state) trades from 100 h. The venue paid
    // funding at 88 h on a position by hand (before the run held anything) and at 96 h on rc_1's position.
    const fill: VenueFillReport = { instrument: 0, clientOrderId: 'rc_1', side: 'buy', quantity: 0.5, price: 100, fee: 0, liquidity: 'taker', tsEvent: 90 * H, tsInit: 90 * H, executionId: 'x1' };
    const byHand = { executionId: 'f88', instrument: 0, quantity: 0.1, rate: 0.001, markPrice: 100, payment: 0.01, tsEvent: 88 * H };
    const onRun = { executionId: 'f96', instrument: 0, quantity: 0.5, rate: 0.001, markPrice: 100, payment: 0.05, tsEvent: 96 * H };
    const run = async (funding: VenueFunding) => {
      const { kernel, journal, gate } = liveKernel(100 * H);
      const asked: number[] = [];
      const venue: VenueQueries = {
        executionsSince: async (ms) => [fill].filter((f) => f.tsEvent >= ms),
        fundingSince: async (ms) => (asked.push(ms), [byHand, onRun].filter((p) => p.tsEvent >= ms)),
        openOrders: async () => [],
        queryOrder: async (id) => (id === 'rc_1' ? { clientOrderId: 'rc_1', instrument: 0, side: 'buy', type: 'market', timeInForce: 'GTC', quantity: 0.5, price: Number.NaN, reduceOnly: false, status: 'FILLED', filledQuantity: 0.5, averageFillPrice: 100, tsEvent: 90 * H, venueOrderId: 'v1' } : undefined),
        positions: async () => [{ instrument: 0, quantity: 0.5, averagePrice: 100, tsEvent: 90 * H }],
        balance: async () => ({ currency: 'USDT', walletBalance: 100_000, equity: 100_000, available: 100_000, tsEvent: 100 * H }),
      };
      await reconcile(kernel, gate, venue, { prefix: 'rc_', sinceMs: 100 * H - 7 * 24 * H, journal, funding });
      journal.close();
      return { asked, booked: readJournal(journal.path).records.flatMap((r) => (r.k === 'funding' ? [r.exec] : [])), cash: kernel.portfolio.cash, saved: funding.save() };
    };
    const fresh = await run(new VenueFunding(100 * H));
    expect(fresh.asked).toEqual([100 * H - 7 * 24 * H]); // as far back as the executions
    expect(fresh.booked).toEqual(['f96']);
    expect(fresh.cash).toBeCloseTo(100_000 - 0.05, 9);
    expect(fresh.saved.from).toBe(96 * H);
    // A saved book asks from its own cursor only: it began with the run's first saved life.
    const saved = await run(new VenueFunding(0, { from: 100 * H, booked: [] }));
    expect(saved.asked).toEqual([100 * H - 60_000]);
    expect(saved.booked).toEqual([]);
  });

  /** A venue report of order `id` (buy 0.5 BTCUSDT market) in `status`, `filled` of it filled. */
  function report(id: string, status: VenueOrderReport['status'], filled = 0, reason?: string): VenueOrderReport {
    return { clientOrderId: id, instrument: 0, side: 'buy', type: 'market', timeInForce: 'GTC', quantity: 0.5, price: Number.NaN, reduceOnly: false, status, filledQuantity: filled, averageFillPrice: filled > 0 ? 100 : Number.NaN, tsEvent: 5_000, venueOrderId: `v-${id}`, ...(reason !== undefined ? { reason } : {}) };
  }

  it('settles each order it holds by the venue\'s word: acknowledged, sent again, vanished, closed three ways, fills missing', async () => {
    const clock = new LiveClock(20_000);
    const kernel = new Kernel({ instruments: [BYBIT_LINEAR_PERPETUALS['BTCUSDT']!], initialCash: 100_000, leverage: 10, runId: 'rc' }, { clock, strategy: { name: 'none' } });
    const journal = new Journal(join(mkdtempSync(join(tmpdir(), 'tm-reconcile-')), 'journal.jsonl'));
    const sent: OrderCommand[] = [];
    const gate = new JournalingGate({ connect() {}, submit: (o) => sent.push(o), cancel() {} }, journal, () => clock.now());
    kernel.attachExecution(gate);
    const hold = (id: string, accepted: boolean) => {
      kernel.adoptOrder({ instrument: 0, side: 'buy', type: 'market', quantity: 0.5, clientOrderId: id }, 2_000);
      if (accepted) gate.onOrderAccepted({ kind: 'accepted', clientOrderId: id, venueOrderId: `v-${id}`, tsEvent: 2_000 });
    };
    hold('rc_work', true); // working at both
    hold('rc_ack', false); // the runner never heard the venue's acknowledgement
    hold('rc_unsent', false); // never reached the venue
    hold('rc_gone', true); // accepted once, unknown to the venue now
    hold('rc_cxl', true);
    hold('rc_exp', true);
    hold('rc_rej', true);
    hold('rc_lag', true); // filled at the venue, its execution not listed yet
    hold('rc_subrej', false); // rejected by the venue, the runner never heard
    const lookups: Record<string, VenueOrderReport> = { rc_cxl: report('rc_cxl', 'CANCELED', 0, 'canceled by hand'), rc_exp: report('rc_exp', 'EXPIRED'), rc_rej: report('rc_rej', 'REJECTED'), rc_lag: report('rc_lag', 'FILLED', 0.5), rc_subrej: report('rc_subrej', 'REJECTED', 0, 'margin') };
    const asked: string[] = [];
    const venue: VenueQueries = {
      executionsSince: async () => [],
      fundingSince: async () => [],
      openOrders: async () => [report('rc_work', 'ACCEPTED'), report('rc_ack', 'ACCEPTED')],
      queryOrder: async (id) => (asked.push(id), lookups[id]),
      positions: async () => [{ instrument: 0, quantity: 0, averagePrice: Number.NaN, tsEvent: 5_000 }],
      balance: async () => ({ currency: 'USDT', walletBalance: 100_000, equity: 100_000, available: 100_000, tsEvent: 5_000 }),
    };
    const differences = await reconcile(kernel, gate, venue, { prefix: 'rc_', sinceMs: 0, journal });
    journal.close();
    expect(differences).toEqual([
      { kind: 'missed_ack', detail: { id: 'rc_ack' } },
      { kind: 'resent', detail: { id: 'rc_unsent' } },
      { kind: 'order_vanished', detail: { id: 'rc_gone', status: 'ACCEPTED' } },
      { kind: 'order_closed', detail: { id: 'rc_cxl', status: 'CANCELED' } },
      { kind: 'order_closed', detail: { id: 'rc_exp', status: 'EXPIRED' } },
      { kind: 'order_closed', detail: { id: 'rc_rej', status: 'REJECTED' } },
      { kind: 'fills_missing', detail: { id: 'rc_lag', venueFilled: 0.5, booked: 0 } },
      { kind: 'order_closed', detail: { id: 'rc_subrej', status: 'REJECTED' } },
    ]);
    expect(asked.sort()).toEqual(['rc_cxl', 'rc_exp', 'rc_gone', 'rc_lag', 'rc_rej', 'rc_subrej', 'rc_unsent']); // only those not listed working
    const status = (id: string) => kernel.order(id)!.status;
    expect(['rc_work', 'rc_ack', 'rc_unsent', 'rc_gone', 'rc_cxl', 'rc_exp', 'rc_rej', 'rc_lag'].map(status)).toEqual(['ACCEPTED', 'ACCEPTED', 'SUBMITTED', 'CANCELED', 'CANCELED', 'EXPIRED', 'REJECTED', 'ACCEPTED']);
    expect(sent.map((o) => o.clientOrderId)).toEqual(['rc_unsent']); // sent again with its own id, nothing else sent
    expect(kernel.order('rc_cxl')!.reason).toBe('reconciliation: canceled by hand at the venue');
    expect(kernel.order('rc_exp')!.reason).toBe('reconciliation: expired at the venue');
    expect(kernel.order('rc_gone')!.reason).toBe('reconciliation: the venue does not know the order');
    // A SUBMITTED order the venue rejected is rejected, never accepted first.
    expect(kernel.order('rc_subrej')).toMatchObject({ status: 'REJECTED', reason: 'reconciliation: margin at the venue' });
    const accepted = readJournal(journal.path).records.filter((r) => r.k === 'event' && r.e === 'accepted').map((r) => (r as { id: string }).id);
    expect(accepted.filter((id) => id === 'rc_subrej' || id === 'rc_unsent')).toEqual([]);
    expect(kernel.risk.isInstrumentHalted(0)).toBe(false);
  });

  it('settleOrder: books the order\'s own executions before closing it, accepts a SUBMITTED one first, leaves a working one open', async () => {
    const { kernel, journal, gate } = liveKernel(20_000);
    kernel.adoptOrder({ instrument: 0, side: 'buy', type: 'market', quantity: 0.5, clientOrderId: 'rc_p' }, 2_000); // SUBMITTED
    const fill = (id: string, q: number, exec: string): VenueFillReport => ({ instrument: 0, clientOrderId: id, side: 'buy', quantity: q, price: 100, fee: 0, liquidity: 'taker', tsEvent: 4_000, tsInit: 4_000, executionId: exec });
    const since: number[] = [];
    const venue = { executionsSince: async (ms: number) => (since.push(ms), [fill('rc_other', 0.1, 'o1'), fill('rc_p', 0.2, 'p1')]), queryOrder: async () => undefined };
    const booked: string[] = [];
    // Canceled at the venue after 0.2 of 0.5 filled: accepted, the fill booked (not the other order's), then canceled.
    const settled = await settleOrder(kernel, gate, venue, kernel.order('rc_p')!, report('rc_p', 'CANCELED', 0.2), { prefix: 'rc_', onBooked: (id, exec) => booked.push(`${id}/${exec}`) });
    journal.close();
    expect(settled).toEqual({ fillsMissing: false, closed: true });
    expect(since).toEqual([2_000 - 60_000]);
    expect(booked).toEqual(['rc_p/p1']);
    expect(kernel.order('rc_p')).toMatchObject({ status: 'CANCELED', filledQuantity: 0.2, venueOrderId: 'v-rc_p' });
    expect(kernel.position(0)).toBeCloseTo(0.2, 12);
    // A report of an order still working changes nothing and asks for no executions.
    const { kernel: k2, journal: j2, gate: g2 } = withAdopted();
    since.length = 0;
    expect(await settleOrder(k2, g2, venue, k2.order('rc_x')!, { ...report('rc_x', 'ACCEPTED'), venueOrderId: 'v1' }, { prefix: 'rc_' })).toEqual({ fillsMissing: false, closed: false });
    j2.close();
    expect(since).toEqual([]);
    expect(k2.order('rc_x')!.status).toBe('ACCEPTED');
  });

  it('adopts an order it finds only in the executions (the lookup lags) with all of its listed fills: two partial fills booked, none refused', async () => {
    const { kernel, journal, gate } = liveKernel(20_000);
    const part = (exec: string, q: number, ts: number): VenueFillReport => ({ instrument: 0, clientOrderId: 'rc_q', side: 'buy', quantity: q, price: 100, fee: 0.01, liquidity: 'taker', tsEvent: ts, tsInit: ts, executionId: exec });
    const venue: VenueQueries = {
      executionsSince: async () => [part('q1', 0.3, 3_000), part('q2', 0.2, 3_500), part('q1', 0.3, 3_000)],
      fundingSince: async () => [], // q1 listed twice
      openOrders: async () => [],
      queryOrder: async () => undefined, // the venue's order listings lag its executions
      positions: async () => [],
      balance: async () => ({ currency: 'USDT', walletBalance: 0, equity: 0, available: 0, tsEvent: 0 }),
    };
    const adopted: string[] = [];
    expect(await bookExecutions(kernel, gate, venue, { prefix: 'rc_', sinceMs: 0, onBooked: (id, exec) => adopted.push(`${id}/${exec}`) })).toBe(2);
    journal.close();
    expect(adopted).toEqual(['rc_q/q1', 'rc_q/q2']);
    expect(kernel.order('rc_q')).toMatchObject({ status: 'FILLED', quantity: 0.5, filledQuantity: 0.5, side: 'buy', tsInit: 3_000 });
    expect(kernel.position(0)).toBeCloseTo(0.5, 12);
    expect(readJournal(journal.path).records.filter((r) => r.k === 'fill').map((r) => (r as { exec: string }).exec)).toEqual(['q1', 'q2']);
    // Without callbacks (the runner's per-bar booking): the same, counted.
    const other = liveKernel(20_000);
    expect(await bookExecutions(other.kernel, other.gate, venue, { prefix: 'rc_', sinceMs: 0 })).toBe(2);
    other.journal.close();
    expect(other.kernel.position(0)).toBeCloseTo(0.5, 12);
  });

  it('takes an execution\'s order over as journaled when the lookup does not find it: a limit of 0.5 partly filled, its later fill taken too', async () => {
    const journaled = (id: string) => (id === 'rc_j' ? { request: { instrument: 0, side: 'buy' as const, type: 'limit' as const, price: 90, quantity: 0.5, clientOrderId: 'rc_j' }, ts: 2_500 } : undefined);
    const first = fixedVenue({ fills: [{ ...execution('rc_j', 'j1', 0.1), price: 90 }] });
    const { kernel, journal, gate } = liveKernel(20_000);
    expect(await bookExecutions(kernel, gate, first.venue, { prefix: 'rc_', sinceMs: 0, journaled })).toBe(1);
    expect(first.asked).toEqual(['rc_j']); // the venue is asked first
    expect(kernel.order('rc_j')).toMatchObject({ type: 'limit', price: 90, quantity: 0.5, filledQuantity: 0.1, status: 'PARTIALLY_FILLED', tsInit: 2_500 });
    // A bar later the order fills further (its lookup still lags): the fill is taken, not refused.
    const later = fixedVenue({ fills: [{ ...execution('rc_j', 'j2', 0.4, 4_000), price: 90 }] });
    expect(await bookExecutions(kernel, gate, later.venue, { prefix: 'rc_', sinceMs: 0, journaled })).toBe(1);
    journal.close();
    expect(kernel.order('rc_j')).toMatchObject({ filledQuantity: 0.5, status: 'FILLED' });
    expect(kernel.position(0)).toBeCloseTo(0.5, 12);
    // Without the journal's word: taken over from its first fill alone (FILLED at 0.1, a market order as far as the
    // fills tell), and its later fill still taken: the quantity grows to 0.5 and the position follows the venue's.
    const bare = liveKernel(20_000);
    await bookExecutions(bare.kernel, bare.gate, first.venue, { prefix: 'rc_', sinceMs: 0 });
    expect(bare.kernel.order('rc_j')).toMatchObject({ type: 'market', quantity: 0.1, filledQuantity: 0.1, status: 'FILLED' });
    expect(await bookExecutions(bare.kernel, bare.gate, later.venue, { prefix: 'rc_', sinceMs: 0 })).toBe(1);
    bare.journal.close();
    expect(bare.kernel.order('rc_j')).toMatchObject({ quantity: 0.5, filledQuantity: 0.5, leavesQuantity: 0, averageFillPrice: 90, status: 'FILLED' });
    expect(bare.kernel.position(0)).toBeCloseTo(0.5, 12);
    expect(readJournal(bare.journal.path).records.filter((r) => r.k === 'fill').map((r) => (r as { exec: string }).exec)).toEqual(['j1', 'j2']);
  });

  it('an order taken over from its fills alone keeps taking fills after a restart: its saved state says so, and the next start\'s reconciliation books the later fill instead of failing', async () => {
    const first = fixedVenue({ fills: [{ ...execution('rc_f', 'f1', 0.1), price: 90 }] });
    const life = liveKernel(20_000);
    await bookExecutions(life.kernel, life.gate, first.venue, { prefix: 'rc_', sinceMs: 0 });
    life.journal.close();
    const saved = JSON.parse(JSON.stringify(life.kernel.saveState({ histories: false }))) as ReturnType<Kernel['saveState']>;
    expect(saved.orders.quantityFromFills).toEqual(['rc_f']);
    // The next life: restored, and its start's reconciliation lists the order's later fill (and the first one again).
    const next = liveKernel(30_000);
    next.kernel.restoreState(saved);
    next.gate.restoreBooked(['f1'], 3_000);
    const fills = [{ ...execution('rc_f', 'f1', 0.1), price: 90 }, { ...execution('rc_f', 'f2', 0.4, 25_000), price: 90 }];
    const { venue } = fixedVenue({ fills, positions: [{ instrument: 0, quantity: 0.5, averagePrice: 90, tsEvent: 25_000 }], wallet: 100_000 });
    const differences = await reconcile(next.kernel, next.gate, venue, { prefix: 'rc_', sinceMs: 0, journal: next.journal });
    next.journal.close();
    expect(differences.map((d) => d.kind)).toEqual(['missed_fill']);
    expect(differences[0]!.detail).toMatchObject({ id: 'rc_f', execution: 'f2', quantity: 0.4 });
    expect(next.kernel.order('rc_f')).toMatchObject({ quantity: 0.5, filledQuantity: 0.5, status: 'FILLED' });
    expect(next.kernel.position(0)).toBeCloseTo(0.5, 12);
    expect(next.kernel.risk.isInstrumentHalted(0)).toBe(false);
    // An order restored without the mark (a state saved before it existed, or any other order) still refuses a fill beyond its quantity.
    const plain = liveKernel(30_000);
    plain.kernel.restoreState({ ...saved, orders: { orders: saved.orders.orders } });
    await expect(bookExecutions(plain.kernel, plain.gate, fixedVenue({ fills: [fills[1]!] }).venue, { prefix: 'rc_', sinceMs: 0 })).rejects.toThrow(/not allowed in state FILLED/);
    plain.journal.close();
  });

  it('an execution the kernel refuses (its order EXPIRED) no longer fails the start: reported once as fill_refused, its instrument halted, the executions after it booked', async () => {
    const { kernel, journal, gate } = liveKernel(20_000);
    kernel.adoptOrder({ instrument: 0, side: 'buy', type: 'limit', price: 90, quantity: 0.2, timeInForce: 'IOC', clientOrderId: 'rc_ioc' }, 1_000);
    gate.onOrderExpired({ kind: 'expired', clientOrderId: 'rc_ioc', reason: 'ioc remainder', tsEvent: 1_500 });
    const late = { ...execution('rc_ioc', 'e1', 0.2, 2_000), price: 90 };
    // The venue's position as the runner's (so that only the refusal halts): the refused execution is the difference.
    const { venue } = fixedVenue({ fills: [late, late, execution('rc_ok', 'k1', 0.1)], lookups: { rc_ok: { ...report('rc_ok', 'FILLED', 0.1), quantity: 0.1 } }, positions: [{ instrument: 0, quantity: 0.1, averagePrice: 100, tsEvent: 3_000 }] });
    const lines: string[] = [];
    const differences = await reconcile(kernel, gate, venue, { prefix: 'rc_', sinceMs: 0, journal, log: (l) => lines.push(l) });
    journal.close();
    expect(differences.map((d) => d.kind)).toEqual(['fill_refused', 'adopted_order', 'missed_fill']);
    expect(differences[0]!.detail).toEqual({ id: 'rc_ioc', execution: 'e1', instrument: 'BTCUSDT-LINEAR.BYBIT', side: 'buy', quantity: 0.2, price: 90, reason: expect.stringMatching(/rc_ioc.*not allowed in state EXPIRED/) });
    expect(kernel.order('rc_ok')).toMatchObject({ status: 'FILLED', filledQuantity: 0.1 });
    expect(kernel.position(0)).toBeCloseTo(0.1, 12);
    expect(gate.isBooked('e1')).toBe(false); // asked for again: a human may fix the order's state
    expect(kernel.risk.isInstrumentHalted(0)).toBe(true);
    expect(lines.filter((l) => l.startsWith('ALERT'))).toEqual([expect.stringMatching(/^ALERT execution e1 of order rc_ioc \(buy 0\.2 at 90\) refused: .*; the position lacks it: new orders of BTCUSDT-LINEAR\.BYBIT halted$/)]);
    expect(readJournal(journal.path).records.filter((r) => r.k === 'reconcile').map((r) => (r as { kind: string }).kind)).toEqual(['fill_refused', 'adopted_order', 'missed_fill']);
    expect(kernel.risk.changes.map((c) => c.reason)).toEqual([expect.stringMatching(/^execution e1 of order rc_ioc .* refused: /)]);
    // Without a listener (bookExecutions as before), the refusal still throws.
    const other = liveKernel(20_000);
    other.kernel.adoptOrder({ instrument: 0, side: 'buy', type: 'limit', price: 90, quantity: 0.2, timeInForce: 'IOC', clientOrderId: 'rc_ioc' }, 1_000);
    other.gate.onOrderExpired({ kind: 'expired', clientOrderId: 'rc_ioc', reason: 'ioc remainder', tsEvent: 1_500 });
    await expect(bookExecutions(other.kernel, other.gate, venue, { prefix: 'rc_', sinceMs: 0 })).rejects.toThrow(/not allowed in state EXPIRED/);
    // Only the kernel's invariant errors are refusals: anything else the check throws (a bug) still ends the booking.
    other.kernel.checkFill = () => {
      throw new TypeError('not a refusal');
    };
    await expect(bookExecutions(other.kernel, other.gate, venue, { prefix: 'rc_', sinceMs: 0, onRefused: () => {} })).rejects.toThrow('not a refusal');
    other.journal.close();
  });

  it('an order declared lost (REJECTED by inference) that the venue lists as working is taken over at a start: lost_order_found, ACCEPTED with its venue id; one the venue rejected is not', async () => {
    const { kernel, journal, gate } = liveKernel(20_000);
    for (const id of ['rc_lost', 'rc_gone']) {
      kernel.adoptOrder({ instrument: 0, side: 'buy', type: 'limit', price: 90, quantity: 0.5, clientOrderId: id }, 1_000);
      gate.onOrderRejected({ kind: 'rejected', clientOrderId: id, reason: 'lost: unknown to the venue after 3 queries', tsEvent: 2_000 });
    }
    expect(kernel.markDeclaredLost('rc_lost')).toBe(true);
    expect(kernel.markDeclaredLost('rc_unknown')).toBe(false);
    const listed = (id: string): VenueOrderReport => ({ ...report(id, 'ACCEPTED'), type: 'limit', price: 90, quantity: 0.5, timeInForce: 'GTC', venueOrderId: `v-${id}` });
    const { venue } = fixedVenue({ open: [listed('rc_lost'), listed('rc_gone')] });
    const differences = await reconcile(kernel, gate, venue, { prefix: 'rc_', sinceMs: 0, journal });
    journal.close();
    expect(differences).toEqual([{ kind: 'lost_order_found', detail: { id: 'rc_lost', instrument: 'BTCUSDT-LINEAR.BYBIT', status: 'ACCEPTED', filled: 0 } }]);
    expect(kernel.order('rc_lost')).toMatchObject({ status: 'ACCEPTED', venueOrderId: 'v-rc_lost', leavesQuantity: 0.5 });
    expect(kernel.isDeclaredLost('rc_lost')).toBe(false);
    expect(kernel.order('rc_gone')!.status).toBe('REJECTED'); // not marked: the venue's word stands (no second order adopted either)
  });

  it('an order declared lost long before a restart is still known as lost after it (the saved state keeps it): the venue listing it working is lost_order_found, not a stranger adopted', async () => {
    const before = liveKernel(20_000);
    before.kernel.adoptOrder({ instrument: 0, side: 'buy', type: 'limit', price: 90, quantity: 0.5, clientOrderId: 'rc_old' }, 1_000);
    before.gate.onOrderRejected({ kind: 'rejected', clientOrderId: 'rc_old', reason: 'lost: unknown to the venue after 3 queries', tsEvent: 2_000 });
    before.kernel.markDeclaredLost('rc_old');
    before.journal.close();
    // A live runner saves closed orders of the last two bars only: this one closed long before.
    const saved = JSON.parse(JSON.stringify(before.kernel.saveState({ histories: false, closedOrdersSince: 1_000_000 }))) as KernelState;
    const { kernel, journal, gate } = liveKernel(1_000_000);
    kernel.restoreState(saved);
    expect(kernel.isDeclaredLost('rc_old')).toBe(true);
    const { venue } = fixedVenue({ open: [{ ...report('rc_old', 'ACCEPTED'), type: 'limit', price: 90, quantity: 0.5, timeInForce: 'GTC', venueOrderId: 'v-old' }] });
    const differences = await reconcile(kernel, gate, venue, { prefix: 'rc_', sinceMs: 0, journal });
    journal.close();
    expect(differences).toEqual([{ kind: 'lost_order_found', detail: { id: 'rc_old', instrument: 'BTCUSDT-LINEAR.BYBIT', status: 'ACCEPTED', filled: 0 } }]);
    expect(kernel.order('rc_old')).toMatchObject({ status: 'ACCEPTED', venueOrderId: 'v-old' });
  });

  it('a refused execution halts its instrument also when reconciliation has no log to write its ALERT to', async () => {
    const { kernel, journal, gate } = liveKernel(20_000);
    kernel.adoptOrder({ instrument: 0, side: 'buy', type: 'limit', price: 90, quantity: 0.2, timeInForce: 'IOC', clientOrderId: 'rc_ioc' }, 1_000);
    gate.onOrderExpired({ kind: 'expired', clientOrderId: 'rc_ioc', reason: 'ioc remainder', tsEvent: 1_500 });
    const { venue } = fixedVenue({ fills: [{ ...execution('rc_ioc', 'e1', 0.2, 2_000), price: 90 }] });
    const differences = await reconcile(kernel, gate, venue, { prefix: 'rc_', sinceMs: 0, journal });
    journal.close();
    expect(differences.map((d) => d.kind)).toEqual(['fill_refused']);
    expect(kernel.risk.isInstrumentHalted(0)).toBe(true); // before, the halt was an argument of the optional log call
  });

  it('the gate marks an execution booked and journals it only once the kernel took it: a fill the kernel refuses is asked for again', () => {
    const { kernel, journal, gate } = liveKernel(20_000);
    const fill: VenueFillReport = { instrument: 0, clientOrderId: 'rc_unknown', side: 'buy', quantity: 0.5, price: 100, fee: 0, liquidity: 'taker', tsEvent: 3_000, tsInit: 3_000, executionId: 'u1' };
    expect(() => gate.onOrderFilled(fill)).toThrow(/unknown client order id/);
    journal.close();
    expect(gate.isBooked('u1')).toBe(false);
    expect(gate.lastExecutionTs).toBe(-Infinity);
    expect(readJournal(journal.path).records.filter((r) => r.k === 'fill')).toEqual([]);
    expect(kernel.position(0)).toBe(0);
  });

  /** Venue queries with fixed answers; `lookups` answers queryOrder by id (undefined: unknown), `asked` logs each lookup. */
  function fixedVenue(books: { fills?: VenueFillReport[]; open?: VenueOrderReport[]; positions?: VenuePositionReport[]; wallet?: number; lookups?: Record<string, VenueOrderReport> }) {
    const asked: string[] = [];
    const venue: VenueQueries = {
      executionsSince: async () => books.fills ?? [],
      fundingSince: async () => [],
      openOrders: async () => books.open ?? [],
      queryOrder: async (id) => (asked.push(id), books.lookups?.[id]),
      positions: async () => books.positions ?? [],
      balance: async () => ({ currency: 'USDT', walletBalance: books.wallet ?? 100_000, equity: 0, available: 0, tsEvent: 0 }),
    };
    return { venue, asked };
  }
  const execution = (id: string, exec: string, quantity: number, ts = 3_000): VenueFillReport => ({ instrument: 0, clientOrderId: id, side: 'buy', quantity, price: 100, fee: 0, liquidity: 'taker', tsEvent: ts, tsInit: ts, executionId: exec });

  it('adopts the order of an execution from the open-order listing when its lookup finds nothing: the working limit as listed, its fill booked, journaled like every difference', async () => {
    const { kernel, journal, gate } = liveKernel(20_000);
    const listed: VenueOrderReport = { ...report('rc_lim', 'PARTIALLY_FILLED', 0.1), type: 'limit', price: 90, timeInForce: 'GTC' };
    const { venue } = fixedVenue({ open: [listed], fills: [{ ...execution('rc_lim', 'l1', 0.1), price: 90 }], positions: [{ instrument: 0, quantity: 0.1, averagePrice: 90, tsEvent: 0 }] });
    const differences = await reconcile(kernel, gate, venue, { prefix: 'rc_', sinceMs: 0, journal });
    journal.close();
    // The execution names an order the kernel does not hold and no lookup finds (it lags): taken over from the open-order
    // listing fetched with it, as the venue has it (a limit of 0.5 at 90), then its fill booked.
    expect(differences).toEqual([
      { kind: 'adopted_order', detail: { id: 'rc_lim', status: 'PARTIALLY_FILLED', filled: 0.1 } },
      { kind: 'missed_fill', detail: { id: 'rc_lim', execution: 'l1', quantity: 0.1, price: 90 } },
    ]);
    expect(kernel.order('rc_lim')).toMatchObject({ type: 'limit', price: 90, quantity: 0.5, filledQuantity: 0.1, status: 'PARTIALLY_FILLED' });
    const recorded = readJournal(journal.path).records.filter((r) => r.k === 'reconcile').map((r) => ({ kind: (r as { kind: string }).kind, detail: (r as { detail: unknown }).detail }));
    expect(recorded).toEqual(differences);
  });

  it('takes over a listed working order unknown to the kernel: adopted_order, accepted with its venue id, priced as listed', async () => {
    const { kernel, journal, gate } = liveKernel(20_000);
    const listed: VenueOrderReport = { ...report('rc_lim', 'ACCEPTED'), type: 'limit', price: 90 };
    const { venue } = fixedVenue({ open: [listed], positions: [{ instrument: 0, quantity: 0, averagePrice: Number.NaN, tsEvent: 0 }] });
    const differences = await reconcile(kernel, gate, venue, { prefix: 'rc_', sinceMs: 0, journal });
    journal.close();
    expect(differences).toEqual([{ kind: 'adopted_order', detail: { id: 'rc_lim', status: 'ACCEPTED', filled: 0 } }]);
    expect(kernel.order('rc_lim')).toMatchObject({ type: 'limit', price: 90, quantity: 0.5, status: 'ACCEPTED', venueOrderId: 'v-rc_lim', tsInit: 5_000 });
    expect(readJournal(journal.path).records.filter((r) => r.k === 'reconcile').map((r) => (r as { kind: string }).kind)).toEqual(['adopted_order']);
  });

  it('books only this run\'s executions not booked yet and, with `mine`, only those; adopts from the lookup when it answers, else per order from its own fills', async () => {
    const { kernel, journal, gate } = liveKernel(20_000);
    kernel.adoptOrder({ instrument: 0, side: 'buy', type: 'market', quantity: 0.3, clientOrderId: 'rc_held' }, 2_000);
    gate.restoreBooked(['done1'], 1_000);
    const lim: VenueOrderReport = { ...report('rc_found', 'PARTIALLY_FILLED', 0.1), type: 'limit', price: 95 };
    const { venue, asked } = fixedVenue({
      fills: [execution('zz_other', 'z1', 0.1), execution('rc_held', 'done1', 0.1), execution('rc_held', 'h1', 0.3), execution('rc_found', 'f1', 0.1), execution('rc_a', 'a1', 0.2), execution('rc_b', 'b1', 0.05, 3_500), execution('rc_a', 'a2', 0.1, 3_200), execution('rc_skip', 's1', 0.1)],
      lookups: { rc_found: lim },
    });
    const booked: string[] = [];
    const n = await bookExecutions(kernel, gate, venue, { prefix: 'rc_', sinceMs: 0, mine: (id) => id !== 'rc_skip', onBooked: (id, exec) => booked.push(`${id}/${exec}`) });
    journal.close();
    expect(n).toBe(5);
    expect(booked).toEqual(['rc_held/h1', 'rc_found/f1', 'rc_a/a1', 'rc_b/b1', 'rc_a/a2']);
    expect(asked).toEqual(['rc_found', 'rc_a', 'rc_b']); // held orders are not looked up
    expect(kernel.order('rc_held')).toMatchObject({ status: 'FILLED', filledQuantity: 0.3 });
    expect(kernel.order('rc_found')).toMatchObject({ type: 'limit', price: 95, quantity: 0.5, status: 'PARTIALLY_FILLED' });
    expect(kernel.order('rc_a')).toMatchObject({ type: 'market', quantity: 0.30000000000000004, status: 'FILLED', tsInit: 3_000 });
    expect(kernel.order('rc_b')).toMatchObject({ type: 'market', quantity: 0.05, status: 'FILLED', tsInit: 3_500 });
    expect(kernel.order('zz_other')).toBeUndefined();
    expect(kernel.order('rc_skip')).toBeUndefined();
  });

  it('positions: a difference of more than half a lot halts its instrument (position_mismatch), half a lot or less is none', async () => {
    const clock = new LiveClock(20_000);
    const [btc, eth] = [BYBIT_LINEAR_PERPETUALS['BTCUSDT']!, BYBIT_LINEAR_PERPETUALS['ETHUSDT']!];
    const kernel = new Kernel({ instruments: [btc, eth], initialCash: 100_000, leverage: 10, runId: 'rc' }, { clock, strategy: { name: 'none' } });
    const journal = new Journal(join(mkdtempSync(join(tmpdir(), 'tm-reconcile-')), 'journal.jsonl'));
    kernel.attachExecution(new JournalingGate(nullClient, journal, () => clock.now()));
    const gate = new JournalingGate(nullClient, journal, () => clock.now());
    kernel.attachExecution(gate);
    const { venue } = fixedVenue({ positions: [{ instrument: 0, quantity: btc.lotSize / 2, averagePrice: 100, tsEvent: 0 }, { instrument: 1, quantity: -eth.lotSize, averagePrice: 100, tsEvent: 0 }] });
    const differences = await reconcile(kernel, gate, venue, { prefix: 'rc_', sinceMs: 0, journal });
    journal.close();
    expect(differences).toEqual([{ kind: 'position_mismatch', detail: { instrument: eth.id, runner: 0, venue: -eth.lotSize } }]);
    expect(kernel.risk.isInstrumentHalted(0)).toBe(false);
    expect(kernel.risk.isInstrumentHalted(1)).toBe(true);
    expect(kernel.risk.changes.at(-1)).toMatchObject({ instrument: 1, to: 'HALTED', reason: "position differs from the venue's (0 vs -0.01) after reconciliation" });
  });

  it('balance: the wallet against the runner\'s cash within max(1, 1e-4 of the wallet) by default, or the tolerance given', async () => {
    const differs = async (wallet: number, balanceTolerance?: number) => {
      const { kernel, journal, gate } = liveKernel(20_000);
      const { venue } = fixedVenue({ wallet });
      const d = await reconcile(kernel, gate, venue, { prefix: 'rc_', sinceMs: 0, journal, ...(balanceTolerance !== undefined ? { balanceTolerance } : {}) });
      journal.close();
      return d;
    };
    expect(await differs(100_010)).toEqual([]); // 10 off, tolerance 10.001
    expect(await differs(99_989)).toEqual([{ kind: 'balance_mismatch', detail: { runner: 100_000, venue: 99_989, equity: { runner: 100_000, venue: 0 } } }]);
    expect(await differs(100_005, 5)).toEqual([]); // exactly the tolerance: no difference
    expect((await differs(100_005.01, 5)).map((d) => d.kind)).toEqual(['balance_mismatch']);
  });

  it('untrackedExecutionsFrom: the cursor, or a minute before the oldest open order the execution client does not follow', () => {
    const { kernel, journal } = withAdopted();
    journal.close();
    expect(untrackedExecutionsFrom(kernel, () => false, 10_000)).toBe(2_000 - 60_000);
    expect(untrackedExecutionsFrom(kernel, (id) => id === 'rc_x', 10_000)).toBe(10_000); // followed by the client
    expect(untrackedExecutionsFrom(kernel, () => false, -100_000)).toBe(-100_000); // already earlier
  });
});
