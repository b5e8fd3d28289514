import type { Order } from '../core/order.js';

/**
 * Where orders go: the simulated exchange in backtests, the venue adapter live. Fills and rejections come back
 * through the {@link ExecutionEvents} the client was built with.
 */
export interface ExecutionClient {
  submit(order: Order): void;
  cancel(clientOrderId: string): boolean;
}

/** Callbacks an execution client reports to (implemented by the kernel). */
export interface ExecutionEvents {
  onFill(fill: import('../core/order.js').Fill): void;
  onOrderRejected(order: Order, reason: string): void;
  /** The venue cancelled a working order on its own (e.g. on liquidation). */
  onOrderCancelled(order: Order, reason: string): void;
}
