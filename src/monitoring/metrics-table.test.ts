import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { METRIC_DEFINITIONS } from './metric-definitions.js';
import { METRICS_TABLE_END, METRICS_TABLE_START, renderMetricsTable, replaceMetricsTable } from './metrics-table.js';

describe('README metric table', () => {
  it('is up to date with metric-definitions.ts (regenerate: npx tsx scripts/metrics-table.ts)', () => {
    const readme = readFileSync(join(process.cwd(), 'README.md'), 'utf8');
    expect(replaceMetricsTable(readme)).toBe(readme);
  });

  it('has one row per family with name, type, labels and meaning', () => {
    const rows = renderMetricsTable().split('\n').filter((l) => l.startsWith('| `'));
    expect(rows).toHaveLength(METRIC_DEFINITIONS.length);
    expect(rows).toContain('| `trade_matrix_orders_submitted_total` | counter | `instrument`, `side` | Orders sent to the venue. |');
    expect(() => replaceMetricsTable('no markers')).toThrow(/metrics-table:start/);
    // The end marker before the start marker, or missing, is refused; markers at the very start of a document are fine.
    expect(() => replaceMetricsTable(`${METRICS_TABLE_END}\n${METRICS_TABLE_START}`)).toThrow(/followed by/);
    expect(() => replaceMetricsTable(`x ${METRICS_TABLE_START} y`)).toThrow(/followed by/);
    expect(replaceMetricsTable(`${METRICS_TABLE_START}old${METRICS_TABLE_END}`)).toBe(`${METRICS_TABLE_START}\n${renderMetricsTable()}\n${METRICS_TABLE_END}`);
  });
});
