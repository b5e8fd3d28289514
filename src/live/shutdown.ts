import type { Kernel } from '../engine/kernel.js';

/** What a stop asks for (`tm live stop`: cancel, with `--flatten` also flatten; `tm live kill`: all three). */
export type StopActions = { readonly cancel?: boolean; readonly flatten?: boolean; readonly halt?: boolean };

/**
 * What a stop does to the run before it ends (`tm live stop`, with or without `--flatten`, `tm live kill`): `cancel` cancels
 * the working orders, `flatten` cancels them and closes every position with reduce-only market orders, `halt` (the
 * kill switch) flattens and leaves the account HALTED.
 */
export type ShutdownAction = 'cancel' | 'flatten' | 'halt';

/** The actions of two stops together (a second stop merged into one not done yet: nothing either asked is dropped). */
export function mergeStopActions(a: StopActions, b: StopActions): StopActions {
  return { cancel: a.cancel === true || b.cancel === true, flatten: a.flatten === true || b.flatten === true, halt: a.halt === true || b.halt === true };
}

/** The actions a stop asked for, by name (`cancel, flatten, halt`), or `no action`. */
export function stopActionNames(actions: StopActions): string {
  return (['cancel', 'flatten', 'halt'] as const).filter((k) => actions[k] === true).join(', ') || 'no action';
}

/** The strongest action a stop asked for (halt over flatten over cancel), undefined: none. */
export function shutdownAction(actions: StopActions): ShutdownAction | undefined {
  return actions.halt === true ? 'halt' : actions.flatten === true ? 'flatten' : actions.cancel === true ? 'cancel' : undefined;
}

/** Whether `id` (a journal `shutdown` event's id) names a {@link ShutdownAction}. */
export function isShutdownAction(id: string): id is ShutdownAction {
  return id === 'cancel' || id === 'flatten' || id === 'halt';
}

/**
 * Rounds of closing orders a venue run's stop sends, after its flatten, for positions no working order covers (a fill
 * its cancels came too late for; a flatten order the venue refused or filled less of): LiveRunner's wait, and tm replay.
 */
export const STOP_CLOSING_ROUNDS = 3;

/**
 * Applies a stop's action to the kernel at its clock's time: the live runner at its stop, and `tm replay` at the
 * same point of the run (after the last bar the stopped life processed), so that both send the same orders. `only`:
 * to these instruments alone (tm replay: a dead life's stop that reached the venue for some of them only).
 */
export function applyShutdown(kernel: Kernel, action: ShutdownAction, reason: string, only?: ReadonlySet<number>): void {
  if (action === 'cancel') {
    for (let i = 0; i < kernel.instruments.length; i++) {
      if (only === undefined || only.has(i)) for (const o of kernel.openOrders(i)) if (o.status !== 'PENDING_CANCEL') kernel.cancelOrder(o.clientOrderId);
    }
  } else kernel.flattenAll(reason, only);
  if (action === 'halt') kernel.setTradingState('HALTED', reason);
}

/**
 * What an applied stop left undone, as the kernel sees it after the stop's last look at the venue: with a flatten
 * (`tm live stop --flatten`, `tm live kill`) every position more than half a lot from zero, and with any action the
 * orders still working (a cancel or a flatten's order the venue has not confirmed). Undefined: nothing asked, or done.
 * @example stopLeftOver(kernel, { cancel: true, flatten: true }) // 'not flat: BTCUSDT 0.5; 1 order still working (r1_sma_0_loyw3v28_0)'
 */
export function stopLeftOver(kernel: Kernel, actions: StopActions): string | undefined {
  const action = shutdownAction(actions);
  if (action === undefined) return undefined;
  const held: string[] = [], working: string[] = [];
  kernel.instruments.forEach((x, i) => {
    const q = kernel.position(i);
    if (action !== 'cancel' && Math.abs(q) > x.lotSize / 2) held.push(`${x.id} ${Number(q.toPrecision(12))}`); // a sum of fills: -1.331, not -1.3310000000000002
    for (const o of kernel.openOrders(i)) working.push(o.clientOrderId);
  });
  const parts = [
    ...(held.length > 0 ? [`not flat: ${held.join(', ')}`] : []),
    ...(working.length > 0 ? [`${working.length} order${working.length === 1 ? '' : 's'} still working (${working.join(', ')})`] : []),
  ];
  return parts.length > 0 ? parts.join('; ') : undefined;
}
