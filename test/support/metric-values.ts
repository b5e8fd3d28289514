import type { TradingMetrics } from '../../src/monitoring/trading-metrics.js';

/** One sample of a family: its labels and value. */
export type MetricSample = { readonly labels: Record<string, string | number>; readonly value: number };

/**
 * Reads a metrics registry once, for exact checks: `series(name)` every sample of a family, `value(name, labels)` the
 * one series with exactly these labels (throws when there is none or more), `histogram(name, labels)` a histogram
 * series' cumulative buckets by `le`, sum and count, and `each(labels, expected)` the families (`trade_matrix_` + key)
 * whose series with `labels` differs from the expected value ({} when all agree).
 */
export async function readMetrics(m: Pick<TradingMetrics, 'registry'>) {
  const families = await m.registry.getMetricsAsJSON();
  const series = (name: string): MetricSample[] => {
    const family = families.find((f) => f.name === name);
    if (family === undefined) throw new Error(`no family ${name}`);
    return family.values.map((v) => ({ labels: v.labels as Record<string, string | number>, value: v.value }));
  };
  const value = (name: string, labels: Record<string, string> = {}): number => {
    const matching = series(name).filter((v) => JSON.stringify(Object.entries(v.labels).sort()) === JSON.stringify(Object.entries(labels).sort()));
    if (matching.length !== 1) throw new Error(`${matching.length} series of ${name} with ${JSON.stringify(labels)}: ${JSON.stringify(series(name))}`);
    return matching[0]!.value;
  };
  const histogram = (name: string, labels: Record<string, string> = {}) => {
    const family = families.find((f) => f.name === name)!;
    const own = family.values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x));
    const buckets = Object.fromEntries(own.filter((v) => (v as { metricName?: string }).metricName === `${name}_bucket`).map((v) => [String(v.labels['le']), v.value]));
    const one = (suffix: string) => own.find((v) => (v as { metricName?: string }).metricName === `${name}_${suffix}`)?.value;
    return { buckets, sum: one('sum'), count: one('count'), series: own.length };
  };
  const each = (labels: Record<string, string>, expected: Record<string, number>) =>
    Object.fromEntries(
      Object.entries(expected).flatMap(([key, want]) => {
        const got = value(`trade_matrix_${key}`, labels);
        return Object.is(got, want) ? [] : [[key, got]];
      }),
    );
  return { series, value, histogram, each };
}
