/**
 * PromQL helpers for the dashboard and alert-rule tests: the metric names an expression reads, and the
 * substitution of Grafana's template variables so an expression can be sent to Prometheus as is.
 */
const NOT_METRICS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'offset', 'bool', 'and', 'or', 'unless', 'inf', 'nan']);

/** Metric names selected by `expr` (functions, aggregations, label names, strings, durations and numbers excluded). */
export function metricNames(expr: string): string[] {
  let s = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  s = s.replace(/\{[^}]*\}/g, ' ');
  s = s.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  s = s.replace(/\[[^\]]*\]/g, ' ');
  s = s.replace(/\boffset\s+\d+[smhdwy]+/g, ' ');
  s = s.replace(/(^|[^a-zA-Z0-9_:])\d+(\.\d+)?([eE][+-]?\d+)?/g, '$1 ');
  const names = new Set<string>();
  for (const m of s.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    if (s.slice(m.index! + m[0].length).trimStart().startsWith('(')) continue;
    if (NOT_METRICS.has(m[0].toLowerCase())) continue;
    names.add(m[0]);
  }
  return [...names];
}

/** Grafana variables → values Prometheus accepts: every multi-value variable matches all (`.*`). */
export function substituteGrafanaVariables(expr: string): string {
  return expr.replace(/\$__rate_interval|\$__interval/g, '1m').replace(/\$\{?[a-z_]+\}?/g, '.*');
}
