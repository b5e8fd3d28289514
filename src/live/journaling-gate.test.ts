import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Fill, OrderCommand } from '../core/order.js';
import type { ExecutionClient, ExecutionEvents } from '../engine/execution-client.js';
import { BYBIT_LINEAR_PERPETUALS } from '../core/instrument.js';
import { Kernel } from '../engine/kernel.js';
import { Journal, readJournal, type JournalRecord } from './journal.js';
import { JournalingGate, MAX_BOOKED, submittedRequest, type SubmitRecord } from './journaling-gate.js';
import { LiveClock } from './live-clock.js';

/** What reached the execution client behind the gate, in order. */
type Sent = { readonly submit: string } | { readonly cancel: string; readonly instrument: number };

/** A gate over a recording client and a recording receiver (the kernel's place), journaling to a fresh file at time 7. */
function gateWith(checkFill?: (fill: Fill) => void) {
  const sent: Sent[] = [];
  const client: ExecutionClient = { connect() {}, submit: (o) => sent.push({ submit: o.clientOrderId }), cancel: (id, instrument) => sent.push({ cancel: id, instrument }) };
  const received: string[] = [];
  const sink: ExecutionEvents = {
    onOrderAccepted: (e) => received.push(`accepted ${e.clientOrderId}`),
    onOrderRejected: (e) => received.push(`rejected ${e.clientOrderId}`),
    onOrderFilled: (f) => received.push(`filled ${f.clientOrderId} ${f.quantity}`),
    onOrderCanceled: (e) => received.push(`canceled ${e.clientOrderId}`),
    onOrderCancelRejected: (e) => received.push(`cancel-rejected ${e.clientOrderId}`),
    onOrderExpired: (e) => received.push(`expired ${e.clientOrderId}`),
    ...(checkFill !== undefined ? { checkFill } : {}),
  };
  const journal = new Journal(join(mkdtempSync(join(tmpdir(), 'tm-gate-')), 'journal.jsonl'));
  const gate = new JournalingGate(client, journal, () => 7);
  gate.connect(sink);
  const records = (): JournalRecord[] => {
    journal.sync();
    return [...readJournal(journal.path).records];
  };
  return { gate, sent, received, journal, records };
}

function order(id: string, over: Partial<OrderCommand> = {}): OrderCommand {
  return { clientOrderId: id, instrument: 1, side: 'buy', type: 'market', timeInForce: 'GTC', quantity: 0.5, price: Number.NaN, postOnly: false, reduceOnly: false, tag: undefined, ...over };
}

function fill(id: string, exec: string | undefined, tsEvent: number, over: Partial<Fill> = {}): Fill {
  return { instrument: 1, clientOrderId: id, side: 'sell', quantity: 0.25, price: 101.5, fee: 0.03, liquidity: 'taker', tsEvent, tsInit: tsEvent, ...(exec !== undefined ? { executionId: exec } : {}), ...over };
}

describe('JournalingGate', () => {
  it('journals commands while the strategy decides and hands them to the client, in decision order, only at flush', () => {
    const { gate, sent, records, journal } = gateWith();
    const handed: string[] = [];
    gate.onHandOver = (id) => handed.push(id);
    gate.submit(order('r_1'));
    gate.cancel('r_0', 2);
    gate.submit(order('r_2', { type: 'limit', price: 99.5, reduceOnly: true, postOnly: true, timeInForce: 'IOC', side: 'sell' }));
    expect(sent).toEqual([]); // nothing leaves before flush
    expect(records()).toEqual([
      { k: 'submit', t: 7, id: 'r_1', i: 1, side: 'buy', type: 'market', q: 0.5, tif: 'GTC' },
      { k: 'cancel', t: 7, id: 'r_0', i: 2 },
      { k: 'submit', t: 7, id: 'r_2', i: 1, side: 'sell', type: 'limit', q: 0.5, tif: 'IOC', p: 99.5, ro: true, po: true },
    ]);
    gate.flush();
    expect(sent).toEqual([{ submit: 'r_1' }, { cancel: 'r_0', instrument: 2 }, { submit: 'r_2' }]);
    expect(handed).toEqual(['r_1', 'r_2']); // submits only
    gate.flush(); // nothing pending: nothing sent again
    expect(sent).toHaveLength(3);
    journal.close();
  });

  it('submittedRequest reads back the request a submit record holds', () => {
    const { gate, records, journal } = gateWith();
    gate.submit(order('r_1'));
    gate.submit(order('r_2', { type: 'limit', price: 99.5, reduceOnly: true, postOnly: true, timeInForce: 'FOK', side: 'sell', instrument: 0, quantity: 0.75 }));
    const [a, b] = records() as SubmitRecord[];
    journal.close();
    expect(submittedRequest(a!)).toStrictEqual({ instrument: 1, side: 'buy', type: 'market', quantity: 0.5, timeInForce: 'GTC', clientOrderId: 'r_1' }); // no price key
    expect(submittedRequest(b!)).toEqual({ instrument: 0, side: 'sell', type: 'limit', quantity: 0.75, timeInForce: 'FOK', clientOrderId: 'r_2', price: 99.5, reduceOnly: true, postOnly: true });
  });

  it('resend: journaled as a reconciliation resend and sent at once with its own id', () => {
    const { gate, sent, records, journal } = gateWith();
    gate.resend(order('r_9'));
    expect(sent).toEqual([{ submit: 'r_9' }]);
    expect(records()).toEqual([{ k: 'reconcile', t: 7, kind: 'resend', detail: { id: 'r_9' } }]);
    gate.submit(order('r_10'));
    gate.flush(); // no hand-over listener set: sent all the same
    expect(sent).toEqual([{ submit: 'r_9' }, { submit: 'r_10' }]);
    journal.close();
  });

  it('journals each venue event before the receiver gets it', () => {
    const { gate, received, records, journal } = gateWith();
    gate.onOrderAccepted({ kind: 'accepted', clientOrderId: 'a', venueOrderId: 'v-a', tsEvent: 1 });
    gate.onOrderRejected({ kind: 'rejected', clientOrderId: 'b', reason: 'margin', tsEvent: 1 });
    gate.onOrderCanceled({ kind: 'canceled', clientOrderId: 'c', reason: 'by hand', tsEvent: 1 });
    gate.onOrderCancelRejected({ kind: 'cancel-rejected', clientOrderId: 'd', reason: 'filled', tsEvent: 1 });
    gate.onOrderExpired({ kind: 'expired', clientOrderId: 'e', reason: 'ioc', tsEvent: 1 });
    expect(received).toEqual(['accepted a', 'rejected b', 'canceled c', 'cancel-rejected d', 'expired e']);
    expect(records()).toEqual([
      { k: 'event', t: 7, e: 'accepted', id: 'a', venueId: 'v-a' },
      { k: 'event', t: 7, e: 'rejected', id: 'b', reason: 'margin' },
      { k: 'event', t: 7, e: 'canceled', id: 'c', reason: 'by hand' },
      { k: 'event', t: 7, e: 'cancel-rejected', id: 'd', reason: 'filled' },
      { k: 'event', t: 7, e: 'expired', id: 'e', reason: 'ioc' },
    ]);
    journal.close();
  });

  it('books a fill once per venue execution id; the cursor is the newest booked execution; fills without an id are never deduplicated', () => {
    const { gate, received, records, journal } = gateWith();
    gate.onOrderFilled(fill('f', 'x2', 2_000));
    gate.onOrderFilled(fill('f', 'x1', 1_000)); // older: the cursor stays
    gate.onOrderFilled(fill('f', 'x2', 2_000)); // reported again (the client's poll and the runner's query): dropped
    gate.onOrderFilled(fill('f', undefined, 3_000)); // a paper fill: no venue execution id
    gate.onOrderFilled(fill('f', undefined, 3_000));
    gate.onOrderFilled(fill('liq', 'x3', 1_500, { reason: 'liquidation' }));
    expect(received).toEqual(['filled f 0.25', 'filled f 0.25', 'filled f 0.25', 'filled f 0.25', 'filled liq 0.25']);
    expect(gate.lastExecutionTs).toBe(2_000); // fills without an execution id do not move it
    expect(gate.isBooked('x1') && gate.isBooked('x2') && gate.isBooked('x3')).toBe(true);
    expect(gate.isBooked('x4')).toBe(false);
    expect(gate.bookedIds()).toEqual(['x2', 'x1', 'x3']);
    const base = { k: 'fill', t: 7, i: 1, side: 'sell', q: 0.25, p: 101.5, fee: 0.03 };
    expect(records()).toEqual([
      { ...base, id: 'f', ts: 2_000, exec: 'x2' },
      { ...base, id: 'f', ts: 1_000, exec: 'x1' },
      { ...base, id: 'f', ts: 3_000 },
      { ...base, id: 'f', ts: 3_000 },
      { ...base, id: 'liq', ts: 1_500, exec: 'x3', liq: true },
    ]);
    journal.close();
  });

  it('restoreBooked carries the booked ids and the cursor across a restart', () => {
    const { gate, received, journal } = gateWith();
    gate.restoreBooked(['x1', 'x2'], 5_000);
    expect(gate.lastExecutionTs).toBe(5_000);
    gate.onOrderFilled(fill('f', 'x1', 1_000));
    expect(received).toEqual([]);
    gate.onOrderFilled(fill('f', 'x9', 4_000));
    expect(received).toEqual(['filled f 0.25']);
    expect(gate.lastExecutionTs).toBe(5_000);
    journal.close();
  });

  it('remembers at most MAX_BOOKED execution ids, forgetting the oldest first', () => {
    const full = gateWith();
    full.gate.restoreBooked(Array.from({ length: MAX_BOOKED - 1 }, (_, k) => `x${k}`), 0);
    full.gate.onOrderFilled(fill('f', 'last', 1)); // MAX_BOOKED now: none forgotten yet
    expect(full.gate.bookedIds()).toHaveLength(MAX_BOOKED);
    expect(full.gate.isBooked('x0')).toBe(true);
    full.journal.close();
    const { gate, journal } = gateWith();
    gate.restoreBooked(Array.from({ length: MAX_BOOKED }, (_, k) => `x${k}`), 0);
    gate.onOrderFilled(fill('f', 'new', 1));
    expect(gate.bookedIds()).toHaveLength(MAX_BOOKED);
    expect(gate.isBooked('x0')).toBe(false);
    expect(gate.isBooked('x1')).toBe(true);
    expect(gate.isBooked('new')).toBe(true);
    journal.close();
  });

  it('a fill the receiver refuses (checkFill throws) is neither journaled nor booked, and the cursor stays', () => {
    const { gate, received, records, journal } = gateWith((f) => {
      if (f.clientOrderId === 'bad') throw new Error('unknown order');
    });
    expect(() => gate.onOrderFilled(fill('bad', 'x1', 1_000))).toThrow('unknown order');
    expect(gate.isBooked('x1')).toBe(false);
    expect(gate.lastExecutionTs).toBe(-Infinity);
    gate.onOrderFilled(fill('good', 'x2', 900));
    expect(received).toEqual(['filled good 0.25']);
    expect(records().map((r) => (r as { exec?: string }).exec)).toEqual(['x2']);
    journal.close();
  });

  it('an order event the receiver refuses (checkEvent throws) is not journaled and does not reach it; the kernel\'s own check refuses a REJECTED order\'s acceptance', () => {
    const { gate, received, records, journal } = gateWith();
    const refusing = gate as unknown as { sink: ExecutionEvents };
    const checked: string[] = [];
    refusing.sink.checkEvent = (kind, id) => {
      checked.push(`${kind} ${id}`);
      if (id === 'bad') throw new Error(`refused ${kind}`);
    };
    expect(() => gate.onOrderAccepted({ kind: 'accepted', clientOrderId: 'bad', venueOrderId: 'v', tsEvent: 1 })).toThrow('refused accepted');
    expect(() => gate.onOrderRejected({ kind: 'rejected', clientOrderId: 'bad', reason: 'r', tsEvent: 1 })).toThrow('refused rejected');
    expect(() => gate.onOrderCanceled({ kind: 'canceled', clientOrderId: 'bad', reason: 'r', tsEvent: 1 })).toThrow('refused canceled');
    expect(() => gate.onOrderExpired({ kind: 'expired', clientOrderId: 'bad', reason: 'r', tsEvent: 1 })).toThrow('refused expired');
    gate.onOrderAccepted({ kind: 'accepted', clientOrderId: 'ok', venueOrderId: 'v', tsEvent: 2 });
    gate.onOrderExpired({ kind: 'expired', clientOrderId: 'ok', reason: 'ioc', tsEvent: 3 });
    expect(checked).toEqual(['accepted bad', 'rejected bad', 'canceled bad', 'expired bad', 'accepted ok', 'expired ok']);
    expect(received).toEqual(['accepted ok', 'expired ok']);
    expect(records().map((r) => `${(r as { e: string }).e} ${(r as { id: string }).id}`)).toEqual(['accepted ok', 'expired ok']);
    journal.close();
    // The kernel behind a gate: an acceptance of a REJECTED order is refused before the journal.
    const clock = new LiveClock(10);
    const kernel = new Kernel({ instruments: [BYBIT_LINEAR_PERPETUALS['BTCUSDT']!], initialCash: 1_000, leverage: 1, runId: 'g' }, { clock, strategy: { name: 'none' } });
    const j = new Journal(join(mkdtempSync(join(tmpdir(), 'tm-gate-')), 'journal.jsonl'));
    const g = new JournalingGate({ connect() {}, submit() {}, cancel() {} }, j, () => clock.now());
    kernel.attachExecution(g);
    kernel.adoptOrder({ instrument: 0, side: 'buy', type: 'market', quantity: 0.1, clientOrderId: 'g_x' }, 1);
    g.onOrderRejected({ kind: 'rejected', clientOrderId: 'g_x', reason: 'no margin', tsEvent: 2 });
    expect(() => g.onOrderAccepted({ kind: 'accepted', clientOrderId: 'g_x', venueOrderId: 'v', tsEvent: 3 })).toThrow(/g_x.*accept is not allowed in state REJECTED/);
    expect(() => g.onOrderCanceled({ kind: 'canceled', clientOrderId: 'g_unknown', reason: 'r', tsEvent: 3 })).toThrow(/unknown client order id/);
    j.close();
    expect(readJournal(j.path).records.map((r) => (r as { e: string }).e)).toEqual(['rejected']);
  });
});
