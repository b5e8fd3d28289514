import { describe, expect, it } from 'vitest';
import { htmlTable, metricRows, tableValue } from './html.js';

describe('notebook table values', () => {
  it('shows epoch-ms fields as ISO UTC, other numbers to 6 significant digits, integers exactly', () => {
    expect(tableValue('startMs', 1641009600000)).toBe('2022-01-01T04:00:00.000Z');
    expect(tableValue('endMs', 1756684800000)).toBe('2025-09-01T00:00:00.000Z');
    expect(tableValue('sharpe', 0.49439123035)).toBe(0.494391);
    expect(tableValue('tradeCount', 1234567)).toBe(1234567);
    expect(tableValue('cagr', null)).toBeNull();
    expect(tableValue('profitFactor', Number.POSITIVE_INFINITY)).toBe(Number.POSITIVE_INFINITY);
    expect(tableValue('maxDrawdownDurationDays', 12.3456789)).toBe(12.3457);
  });

  it('renders metric rows in the asked order without the 6-digit rounding of timestamps', () => {
    const metrics = { startMs: 1641009600000, endMs: 1756684800000, sharpe: 1.234567891, tradeCount: 42 };
    expect(metricRows(metrics)).toEqual([['startMs', '2022-01-01T04:00:00.000Z'], ['endMs', '2025-09-01T00:00:00.000Z'], ['sharpe', 1.23457], ['tradeCount', 42]]);
    expect(metricRows(metrics, ['tradeCount', 'startMs'])).toEqual([['tradeCount', 42], ['startMs', '2022-01-01T04:00:00.000Z']]);
    expect(htmlTable(['metric', 'value'], metricRows(metrics, ['startMs']))).toContain('<td>startMs</td><td>2022-01-01T04:00:00.000Z</td>');
  });
});
