import { describe, expect, it } from 'vitest';
import { isClosedStatus, legalTransitions, nextOrderStatus, ORDER_EVENT_KINDS, ORDER_STATUSES, OrderStateError } from './order-status.js';

const code = (s: string) => ORDER_STATUSES.indexOf(s as never);
const event = (e: string) => ORDER_EVENT_KINDS.indexOf(e as never);
const next = (from: string, e: string, filled = false) => ORDER_STATUSES[nextOrderStatus('o1', code(from), event(e), filled)];

describe('order state machine (one transition table)', () => {
  it('walks the happy paths of NautilusTrader’s model', () => {
    expect(next('INITIALIZED', 'submit')).toBe('SUBMITTED');
    expect(next('SUBMITTED', 'accept')).toBe('ACCEPTED');
    expect(next('ACCEPTED', 'partial-fill')).toBe('PARTIALLY_FILLED');
    expect(next('PARTIALLY_FILLED', 'partial-fill')).toBe('PARTIALLY_FILLED');
    expect(next('PARTIALLY_FILLED', 'fill')).toBe('FILLED');
    expect(next('ACCEPTED', 'cancel-request')).toBe('PENDING_CANCEL');
    expect(next('PENDING_CANCEL', 'cancel')).toBe('CANCELED');
    expect(next('ACCEPTED', 'expire')).toBe('EXPIRED');
    expect(next('SUBMITTED', 'reject')).toBe('REJECTED');
  });

  it('handles the races a venue produces', () => {
    expect(next('SUBMITTED', 'fill')).toBe('FILLED'); // fill before the acknowledgement
    expect(next('PENDING_CANCEL', 'partial-fill')).toBe('PENDING_CANCEL');
    expect(next('PENDING_CANCEL', 'fill')).toBe('FILLED'); // filled while the cancel was on its way
    expect(next('FILLED', 'cancel-reject')).toBe('FILLED'); // ... and the cancel then refused
    expect(next('PENDING_CANCEL', 'cancel-reject', false)).toBe('ACCEPTED');
    expect(next('PENDING_CANCEL', 'cancel-reject', true)).toBe('PARTIALLY_FILLED');
    expect(next('CANCELED', 'fill')).toBe('FILLED'); // a late execution report after the cancel confirmation
    expect(next('ACCEPTED', 'accept')).toBe('ACCEPTED'); // acknowledged twice (a runner's query and its venue client)
    expect(next('PARTIALLY_FILLED', 'accept')).toBe('PARTIALLY_FILLED');
  });

  it('refuses every other (state, event) pair with an error naming the order, the state and the event', () => {
    const legal = new Set(legalTransitions().map((t) => `${t.from}/${t.event}`));
    let illegal = 0;
    for (const s of ORDER_STATUSES) {
      for (const e of ORDER_EVENT_KINDS) {
        if (legal.has(`${s}/${e}`)) continue;
        illegal++;
        expect(() => next(s, e), `${s}/${e}`).toThrowError(OrderStateError);
        expect(() => next(s, e)).toThrowError(`order "o1": event ${e} is not allowed in state ${s}`);
      }
    }
    expect(illegal).toBeGreaterThan(40);
    expect(legal.has('FILLED/fill')).toBe(false);
    expect(legal.has('REJECTED/accept')).toBe(false);
    expect(legal.has('EXPIRED/fill')).toBe(false);
  });

  it('closed states are exactly FILLED, CANCELED, REJECTED, EXPIRED', () => {
    expect(ORDER_STATUSES.filter((_, k) => isClosedStatus(k))).toEqual(['FILLED', 'CANCELED', 'REJECTED', 'EXPIRED']);
  });
});
