/**
 * The execution-client contract: one suite of venue behaviours every `ExecutionClient` must show (the shared-case
 * pattern of Hono's router tests). Run it with a harness that wraps an implementation and its venue:
 * `runExecutionClientContract('SimulatedExecutionClient', makeSimulatedHarness)`; the Bybit client runs it against
 * the local v5 server.
 *
 * The harness's venue trades one linear perpetual (index 0): lot 0.001, minimum notional 5, maker 0.02 %, taker
 * 0.055 %; the account starts flat with 100,000 USDT and leverage 10; the first price is 100.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { Fill, OrderEvent, OrderSnapshot, OrderSide, OrderType, TimeInForce } from '../../src/core/order.js';
import type { ExecutionClient, ExecutionEvents } from '../../src/engine/execution-client.js';

export interface ExecutionVenueHarness {
  readonly client: ExecutionClient;
  /**
   * One traded price at the venue (`volume` base units trade there; the venue lets this account take at most
   * `participation` × volume when the harness was made with one): commands sent before it have arrived; working
   * orders match against it. Resolves when every resulting event was delivered.
   */
  trade(price: number, volume?: number): Promise<void>;
  /** Resolves when every command sent so far has been answered (accepted/rejected/canceled/cancel-rejected). */
  settle(): Promise<void>;
  /** The account's signed position in instrument 0, as the venue books it. */
  position(): number;
  close?(): Promise<void>;
}

export interface HarnessOptions {
  /** Share of each trade's volume this account may fill (partial fills); default unlimited. */
  readonly participation?: number;
}

/** Records every event an execution client reports, in order. */
export class EventRecorder implements ExecutionEvents {
  readonly events: (OrderEvent | (Fill & { kind: 'fill' }))[] = [];
  constructor(private readonly onFill?: (fill: Fill) => void) {}
  /**
   * Records `e` under the kind of the callback that reported it (a consumer such as the kernel knows an event by its
   * callback, not by its `kind` field); a payload whose own kind differs is recorded as `<callback>≠<payload kind>`, so
   * that no expectation of kinds passes.
   */
  private record(kind: OrderEvent['kind'], e: OrderEvent): void {
    this.events.push(e.kind === kind ? e : ({ ...e, kind: `${kind}≠${e.kind}` } as unknown as OrderEvent));
  }
  onOrderAccepted(e: OrderEvent & { kind: 'accepted' }): void {
    this.record('accepted', e);
  }
  onOrderRejected(e: OrderEvent & { kind: 'rejected' }): void {
    this.record('rejected', e);
  }
  onOrderFilled(fill: Fill): void {
    this.onFill?.(fill);
    this.events.push({ ...fill, kind: 'fill' });
  }
  onOrderCanceled(e: OrderEvent & { kind: 'canceled' }): void {
    this.record('canceled', e);
  }
  onOrderCancelRejected(e: OrderEvent & { kind: 'cancel-rejected' }): void {
    this.record('cancel-rejected', e);
  }
  onOrderExpired(e: OrderEvent & { kind: 'expired' }): void {
    this.record('expired', e);
  }
  /** Kinds of the events of `id`, in order (`fill` for fills). */
  kinds(id: string): string[] {
    return this.events.filter((e) => e.clientOrderId === id).map((e) => e.kind);
  }
  fills(id: string): Fill[] {
    return this.events.filter((e): e is Fill & { kind: 'fill' } => e.kind === 'fill' && e.clientOrderId === id);
  }
}

let counter = 0;
/** A SUBMITTED order snapshot for instrument 0 with a fresh client order id (`ct_<n>` unless given). */
export function order(side: OrderSide, type: OrderType, quantity: number, options: { price?: number; timeInForce?: TimeInForce; postOnly?: boolean; reduceOnly?: boolean; clientOrderId?: string } = {}): OrderSnapshot {
  return Object.freeze({
    clientOrderId: options.clientOrderId ?? `ct_${++counter}`,
    venueOrderId: undefined,
    instrument: 0,
    side,
    type,
    timeInForce: options.timeInForce ?? 'GTC',
    quantity,
    price: options.price ?? NaN,
    postOnly: options.postOnly ?? false,
    reduceOnly: options.reduceOnly ?? false,
    status: 'SUBMITTED',
    filledQuantity: 0,
    leavesQuantity: quantity,
    averageFillPrice: NaN,
    tsInit: 0,
    tsEvent: 0,
    tsLast: 0,
    tag: undefined,
    reason: undefined,
  } satisfies OrderSnapshot);
}

const sum = (fills: readonly Fill[]) => fills.reduce((a, f) => a + f.quantity, 0);

/** Runs the contract against harnesses made by `make` (a fresh venue and account per case). */
export function runExecutionClientContract(name: string, make: (recorder: EventRecorder, options: HarnessOptions) => Promise<ExecutionVenueHarness>): void {
  describe(`ExecutionClient contract: ${name}`, () => {
    let rec: EventRecorder;
    let venue: ExecutionVenueHarness;
    const open = async (options: HarnessOptions = {}) => {
      rec = new EventRecorder();
      venue = await make(rec, options);
    };
    beforeEach(async () => {
      await venue?.close?.();
    });

    it('market order: accepted, then filled in full at the next price as taker', async () => {
      await open();
      const o = order('buy', 'market', 1);
      venue.client.submit(o);
      await venue.settle();
      expect(rec.kinds(o.clientOrderId)).toEqual(['accepted']);
      await venue.trade(101);
      expect(rec.kinds(o.clientOrderId)).toEqual(['accepted', 'fill']);
      const [f] = rec.fills(o.clientOrderId);
      expect(f).toMatchObject({ side: 'buy', quantity: 1, price: 101, liquidity: 'taker' });
      expect(f!.fee).toBeCloseTo(101 * 0.00055, 12);
      expect(venue.position()).toBeCloseTo(1, 12);
    });

    it('limit order: rests, then fills at its limit as maker when the price crosses it', async () => {
      await open();
      const o = order('buy', 'limit', 2, { price: 99 });
      venue.client.submit(o);
      await venue.trade(100);
      expect(rec.kinds(o.clientOrderId)).toEqual(['accepted']);
      await venue.trade(98.5);
      expect(rec.fills(o.clientOrderId).map((f) => [f.quantity, f.price, f.liquidity])).toEqual([[2, 99, 'maker']]);
    });

    it('IOC limit not marketable at its first price: canceled, nothing filled', async () => {
      await open();
      const o = order('buy', 'limit', 1, { price: 99, timeInForce: 'IOC' });
      venue.client.submit(o);
      await venue.trade(100);
      await venue.trade(98); // too late: it is gone
      expect(rec.kinds(o.clientOrderId)).toEqual(['accepted', 'canceled']);
      expect(venue.position()).toBe(0);
    });

    it('IOC with partial liquidity: fills what is available at its first price, cancels the rest', async () => {
      await open({ participation: 0.5 });
      const o = order('buy', 'market', 3, { timeInForce: 'IOC' });
      venue.client.submit(o);
      await venue.trade(100, 4); // 2 available
      expect(rec.kinds(o.clientOrderId)).toEqual(['accepted', 'fill', 'canceled']);
      expect(sum(rec.fills(o.clientOrderId))).toBeCloseTo(2, 12);
    });

    it('FOK: canceled whole when the volume is short, filled whole when it is there', async () => {
      await open({ participation: 0.5 });
      const short = order('buy', 'market', 3, { timeInForce: 'FOK' });
      venue.client.submit(short);
      await venue.trade(100, 4); // 2 < 3
      expect(rec.kinds(short.clientOrderId)).toEqual(['accepted', 'canceled']);
      const enough = order('buy', 'market', 3, { timeInForce: 'FOK' });
      venue.client.submit(enough);
      await venue.trade(100, 10); // 5 ≥ 3
      expect(rec.fills(enough.clientOrderId).map((f) => f.quantity)).toEqual([3]);
    });

    it('post-only limit that would take liquidity: rejected on arrival with the reason', async () => {
      await open();
      await venue.trade(100);
      const o = order('buy', 'limit', 1, { price: 100.5, postOnly: true });
      venue.client.submit(o);
      await venue.settle();
      const events = rec.events.filter((e) => e.clientOrderId === o.clientOrderId);
      expect(events.map((e) => e.kind)).toEqual(['rejected']);
      expect((events[0] as { reason: string }).reason).toMatch(/post-only/);
    });

    it('reduce-only: capped at the position, the remainder canceled', async () => {
      await open();
      const entry = order('buy', 'market', 1);
      venue.client.submit(entry);
      await venue.trade(100);
      const o = order('sell', 'market', 3, { reduceOnly: true });
      venue.client.submit(o);
      await venue.trade(101);
      expect(rec.fills(o.clientOrderId).map((f) => f.quantity)).toEqual([1]);
      expect(rec.kinds(o.clientOrderId)).toEqual(['accepted', 'fill', 'canceled']);
      expect(venue.position()).toBe(0);
    });

    it('partial fills: a working order fills across several prices until done, quantities summing to the order', async () => {
      await open({ participation: 0.25 });
      const o = order('buy', 'limit', 5, { price: 99.5 });
      venue.client.submit(o);
      await venue.trade(99.5, 8); // 2
      await venue.trade(99, 8); // 2
      await venue.trade(99.4, 8); // 1
      await venue.trade(99, 8); // nothing left
      const fills = rec.fills(o.clientOrderId);
      expect(fills.map((f) => f.quantity)).toEqual([2, 2, 1]);
      expect(fills.every((f) => f.price === 99.5 && f.liquidity === 'maker')).toBe(true);
      expect(rec.kinds(o.clientOrderId)).toEqual(['accepted', 'fill', 'fill', 'fill']);
    });

    it('cancel of a working order: canceled, never filled afterwards', async () => {
      await open();
      const o = order('sell', 'limit', 1, { price: 110 });
      venue.client.submit(o);
      await venue.trade(100);
      venue.client.cancel(o.clientOrderId, 0);
      await venue.settle();
      await venue.trade(111);
      expect(rec.kinds(o.clientOrderId)).toEqual(['accepted', 'canceled']);
    });

    it('cancel of an unknown id: cancel rejected', async () => {
      await open();
      venue.client.cancel('ct_unknown', 0);
      await venue.settle();
      expect(rec.kinds('ct_unknown')).toEqual(['cancel-rejected']);
    });

    it('cancel after the last fill (the race): cancel rejected, the fill stands', async () => {
      await open();
      const o = order('buy', 'market', 1);
      venue.client.submit(o);
      await venue.trade(100);
      venue.client.cancel(o.clientOrderId, 0);
      await venue.settle();
      expect(rec.kinds(o.clientOrderId)).toEqual(['accepted', 'fill', 'cancel-rejected']);
      expect(venue.position()).toBeCloseTo(1, 12);
    });

    it('duplicate client order id: the second is rejected, the first stands and fills once', async () => {
      await open();
      const first = order('buy', 'market', 1, { clientOrderId: 'ct_duplicate' });
      venue.client.submit(first);
      await venue.settle();
      venue.client.submit(order('buy', 'market', 2, { clientOrderId: 'ct_duplicate' }));
      await venue.settle();
      await venue.trade(100);
      expect(rec.kinds('ct_duplicate')).toEqual(['accepted', 'rejected', 'fill']);
      expect(rec.fills('ct_duplicate').map((f) => f.quantity)).toEqual([1]);
      expect(venue.position()).toBeCloseTo(1, 12);
    });
  });
}
