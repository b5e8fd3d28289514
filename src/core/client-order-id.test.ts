import { describe, expect, it } from 'vitest';
import { CLIENT_ORDER_ID_PATTERN, ClientOrderIdError, ClientOrderIdFormatter, formatClientOrderId, parseClientOrderId, runTag, strategyTag } from './client-order-id.js';
import { seededRandom } from './random.js';

describe('client order ids', () => {
  it('format → parse round-trips and obeys the venue rule (≤ 36 of [A-Za-z0-9_-])', () => {
    const rand = seededRandom(7);
    for (let k = 0; k < 2000; k++) {
      const parts = {
        run: runTag(`run-${k}`).slice(0, 1 + Math.floor(rand() * 8)),
        strategy: strategyTag(`strategy number ${Math.floor(rand() * 1e6)} with a long name`),
        instrument: Math.floor(rand() * 1296),
        time: Math.floor(rand() * 36 ** 9),
        sequence: Math.floor(rand() * 46656),
      };
      const id = formatClientOrderId(parts);
      expect(id).toMatch(CLIENT_ORDER_ID_PATTERN);
      expect(parseClientOrderId(id)).toEqual({ success: true, data: parts });
    }
  });

  it('the longest id is exactly 36 characters', () => {
    const id = formatClientOrderId({ run: 'abcdefgh', strategy: 'abcdefghij', instrument: 1295, time: 36 ** 9 - 1, sequence: 46655 });
    expect(id).toHaveLength(36);
  });

  it('is deterministic: the same decision gives the same id, any other part a different one', () => {
    const base = { run: 'r1', strategy: 'sma', instrument: 2, time: Date.UTC(2024, 0, 1, 4), sequence: 0 };
    expect(formatClientOrderId(base)).toBe(formatClientOrderId({ ...base }));
    expect(formatClientOrderId(base)).toBe('r1_sma_2_lque6ps0_0');
    for (const change of [{ run: 'r2' }, { strategy: 'smb' }, { instrument: 3 }, { time: base.time + 1 }, { sequence: 1 }]) {
      expect(formatClientOrderId({ ...base, ...change })).not.toBe(formatClientOrderId(base));
    }
    const f = new ClientOrderIdFormatter('r1', 'sma');
    expect(f.format(2, base.time, 0)).toBe(formatClientOrderId(base));
  });

  it('the formatter (which keeps its per-instrument and per-time pieces between calls) makes exactly formatClientOrderId', () => {
    const rand = seededRandom(11);
    const f = new ClientOrderIdFormatter('r1', 'sma');
    // Around the edges of the ids made from character codes (8 time digits, a sequence below 36) and of the others.
    const times = [0, 35, 36 ** 5, 36 ** 7 - 1, 36 ** 7, Date.UTC(2024, 0, 1), Date.UTC(2024, 0, 1, 4), 36 ** 8 - 1, 36 ** 8, 36 ** 9 - 1];
    for (let k = 0; k < 5000; k++) {
      // Few distinct values, so consecutive calls repeat and change instrument and time in every combination.
      const parts = { run: 'r1', strategy: 'sma', instrument: Math.floor(rand() * 4) * 431, time: times[Math.floor(rand() * times.length)]!, sequence: rand() < 0.5 ? Math.floor(rand() * 40) : Math.floor(rand() * 46656) };
      expect(f.format(parts.instrument, parts.time, parts.sequence)).toBe(formatClientOrderId(parts));
    }
  });

  it('names the field that does not fit', () => {
    expect(() => formatClientOrderId({ run: 'has_underscore', strategy: 's', instrument: 0, time: 0, sequence: 0 })).toThrowError(/`run` must be 1-8 characters/);
    expect(() => formatClientOrderId({ run: 'r', strategy: 's', instrument: -1, time: 0, sequence: 0 })).toThrowError(ClientOrderIdError);
    expect(() => new ClientOrderIdFormatter('r', 's').format(0, 1.5, 0)).toThrowError(/`time` must be an integer/);
    expect(parseClientOrderId('test-1').success).toBe(false);
  });

  it('strategy tags keep short names and make long ones unique', () => {
    expect(strategyTag('sma')).toBe('sma');
    expect(strategyTag('regime-kelly')).toMatch(/^regime-[0-9a-z]{3}$/);
    expect(strategyTag('regime-kelly-a')).not.toBe(strategyTag('regime-kelly-b'));
    expect(strategyTag('a_b c')).toMatch(/^[A-Za-z0-9-]{1,10}$/);
  });
});
