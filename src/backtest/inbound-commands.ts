import type { OrderCommand } from '../core/order.js';
import { growTo, packedArray } from '../core/typed-arrays.js';

/**
 * Commands on their way to the simulated venue, in send order, kept in parallel arrays (no object per command): the
 * order (undefined for a cancel; `T`, what the venue queues for it: the simulated venue's working-order record that
 * holds its copy of the command), its client order id, its instrument and when it arrives. Send order is kept on
 * removal, so among commands arriving at one time the first sent is the first found.
 */
export class InboundCommands<T = OrderCommand> {
  private readonly orders: (T | undefined)[] = packedArray();
  private readonly ids: string[] = packedArray();
  private instruments = new Int32Array(8);
  private arrivals = new Float64Array(8);
  /** Commands waiting. */
  length = 0;

  push(order: T | undefined, clientOrderId: string, instrument: number, arrival: number): void {
    const k = this.length;
    if (k === this.arrivals.length) {
      this.instruments = growTo(this.instruments, 2 * k);
      this.arrivals = growTo(this.arrivals, 2 * k);
    }
    this.orders.push(order);
    this.ids.push(clientOrderId);
    this.instruments[k] = instrument;
    this.arrivals[k] = arrival;
    this.length = k + 1;
  }

  /** Index of the command to process next: the earliest arriving at or before `now` (ties: the first sent), or −1. */
  next(now: number): number {
    const a = this.arrivals;
    let k = -1;
    for (let j = 0; j < this.length; j++) if (a[j]! <= now && (k < 0 || a[j]! < a[k]!)) k = j;
    return k;
  }

  /** The order of command `k`, undefined when it is a cancel. */
  orderAt(k: number): T | undefined {
    return this.orders[k];
  }
  idAt(k: number): string {
    return this.ids[k]!;
  }
  instrumentAt(k: number): number {
    return this.instruments[k]!;
  }
  arrivalAt(k: number): number {
    return this.arrivals[k]!;
  }

  /** Removes command `k`, keeping the send order of the rest (no array allocated for what is removed). */
  removeAt(k: number): void {
    const n = this.length - 1;
    for (let j = k; j < n; j++) {
      this.orders[j] = this.orders[j + 1];
      this.ids[j] = this.ids[j + 1]!;
      this.instruments[j] = this.instruments[j + 1]!;
      this.arrivals[j] = this.arrivals[j + 1]!;
    }
    this.orders.pop(); // not `length--`: setting an array's length is a runtime call, pop is inlined
    this.ids.pop();
    this.length = n;
  }
}
