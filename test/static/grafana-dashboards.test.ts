/**
 * Grafana dashboards without Grafana: the committed JSON is exactly what the typed builders (scripts/dashboards/,
 * checked by tsc against @grafana/schema's `Dashboard`) produce, every panel query names an exported metric, the
 * layout fits Grafana's grid, and docker/ provisions the files through the file provider.
 * test/integration/prometheus-scrape.test.ts runs every query against a real Prometheus.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Dashboard, Panel } from '@grafana/schema';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { dashboardQueries } from '../../scripts/dashboards/build.js';
import { DASHBOARDS_DIR, renderDashboards } from '../../scripts/generate-dashboards.js';
import { METRIC_DEFINITIONS } from '../../src/monitoring/index.js';
import { createTradingMetrics } from '../../src/monitoring/trading-metrics.js';
import { metricNames } from '../support/promql.js';

const root = process.cwd();
const files = readdirSync(DASHBOARDS_DIR).filter((f) => f.endsWith('.json')).sort();
const dashboards = Object.fromEntries(files.map((f) => [f, JSON.parse(readFileSync(join(DASHBOARDS_DIR, f), 'utf8')) as Dashboard]));
const scratch = mkdtempSync(join(root, 'node_modules/.tm-dashboards-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Series names the runner's /metrics serves: our families (+ histogram series), prom-client's process metrics, and Prometheus's `up`. */
async function exportedSeries(): Promise<Set<string>> {
  const names = new Set<string>(['up']);
  const metrics = createTradingMetrics({ processMetrics: true });
  const families = [...METRIC_DEFINITIONS.map((d) => ({ name: d.name, type: d.type as string })), ...(await metrics.processRegistry.getMetricsAsJSON()).map((f) => ({ name: f.name, type: String(f.type) }))];
  for (const f of families) {
    names.add(f.name);
    if (f.type === 'histogram' || f.type === 'summary') for (const suffix of ['_bucket', '_sum', '_count']) names.add(f.name + suffix);
  }
  return names;
}

describe('docker/grafana/dashboards', () => {
  it('are the three dashboards, byte-identical to scripts/generate-dashboards.ts output', () => {
    expect(files).toEqual(['market-analysis.json', 'runner-ops.json', 'trading-cockpit.json']);
    const rendered = renderDashboards();
    for (const f of files) expect(readFileSync(join(DASHBOARDS_DIR, f), 'utf8'), `${f} is stale: npx tsx scripts/generate-dashboards.ts`).toBe(rendered[f]);
  });

  it('the builders type-check against @grafana/schema (tsc), and a wrong field would not', () => {
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    const config = (extra: string[]) => {
      const path = join(scratch, `tsconfig-${extra.length}.json`);
      writeFileSync(path, JSON.stringify({ extends: join(root, 'tsconfig.json'), compilerOptions: { noEmit: true, rootDir: root }, include: [], files: [join(root, 'scripts/generate-dashboards.ts'), ...extra] }));
      return spawnSync(process.execPath, [tsc, '-p', path], { encoding: 'utf8', timeout: 120_000 });
    };
    const ok = config([]);
    expect(ok.stdout + ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    const broken = join(scratch, 'broken.ts');
    writeFileSync(broken, `import type { Dashboard } from '@grafana/schema';\nexport const d: Dashboard = { schemaVersion: 39, panels: [{ type: 'timeseries', gridPos: { x: 0, y: 0, w: 'wide', h: 8 } }] };\n`);
    const bad = config([broken]);
    expect(bad.status).not.toBe(0);
    expect(bad.stdout).toMatch(/broken\.ts.*TS2322/);
  });

  it('every panel query names only exported metrics', async () => {
    const exported = await exportedSeries();
    const unknown: string[] = [];
    let queries = 0;
    for (const [file, d] of Object.entries(dashboards)) {
      for (const q of dashboardQueries(d)) {
        queries++;
        const names = metricNames(q.expr);
        if (names.length === 0) unknown.push(`${file} / ${q.panel}: no metric in ${q.expr}`);
        for (const n of names) if (!exported.has(n)) unknown.push(`${file} / ${q.panel}: ${n}`);
      }
    }
    expect(unknown).toEqual([]);
    expect(queries).toBeGreaterThan(100);
  });

  it('panels: unique ids, on the 24-column grid, Prometheus datasource of the provisioning; the sections the issue lists', () => {
    const provisioned = parse(readFileSync(join(root, 'docker/grafana/provisioning/datasources/datasources.yml'), 'utf8')) as { datasources: { type: string; uid: string }[] };
    const promUid = provisioned.datasources.find((s) => s.type === 'prometheus')!.uid;
    for (const [file, d] of Object.entries(dashboards)) {
      const panels = d.panels ?? [];
      expect(new Set(panels.map((p) => p.id)).size, file).toBe(panels.length);
      for (const p of panels) {
        expect(p.gridPos!.x + p.gridPos!.w, `${file} ${p.title}`).toBeLessThanOrEqual(24);
        if (p.type !== 'row') expect((p as Panel).datasource?.uid).toBe(promUid);
      }
      expect(d.uid).toMatch(/^trade-matrix-/);
    }
    const rows = (f: string) => (dashboards[f]!.panels ?? []).filter((p) => p.type === 'row').map((p) => p.title);
    expect(rows('trading-cockpit.json')).toEqual(['Portfolio', 'P&L', 'Positions', 'Orders and flow', 'Signals and models', 'Sizing cascade and regime', 'Circuit breaker', 'Latency']);
    expect(rows('market-analysis.json')).toEqual(['Prices', 'Spread and liquidity', 'Volatility', 'Funding', 'Correlation']);
    expect(rows('runner-ops.json')).toEqual(['Process', 'State store (Redis) and journal', 'Warm-up and reconciliation', 'Venue and data feed']);
    const count = (f: string) => (dashboards[f]!.panels ?? []).filter((p) => p.type !== 'row').length;
    expect(count('trading-cockpit.json')).toBeGreaterThanOrEqual(56);
    expect(count('market-analysis.json')).toBeGreaterThanOrEqual(20);
  });

  it('compose provisions them: file provider path = the mount target of docker/grafana/dashboards', () => {
    const compose = parse(readFileSync(join(root, 'docker/docker-compose.yml'), 'utf8')) as { services: Record<string, { volumes?: string[] }> };
    const provider = (parse(readFileSync(join(root, 'docker/grafana/provisioning/dashboards/dashboards.yml'), 'utf8')) as { providers: { type: string; options: { path: string } }[] }).providers;
    expect(provider).toHaveLength(1);
    expect(provider[0]!.type).toBe('file');
    expect(compose.services['grafana']!.volumes).toContain(`./grafana/dashboards:${provider[0]!.options.path}:ro`);
    // Prometheus in compose loads the same alert rules the tests check.
    const prom = parse(readFileSync(join(root, 'docker/prometheus/prometheus.yml'), 'utf8')) as { rule_files: string[] };
    expect(prom.rule_files).toEqual(['/etc/prometheus/alert-rules.yml']);
    expect(compose.services['prometheus']!.volumes).toContain('./prometheus/alert-rules.yml:/etc/prometheus/alert-rules.yml:ro');
  });
});

describe('metricNames (PromQL)', () => {
  it('finds selected metrics and ignores functions, label names, strings, durations and numbers', () => {
    expect(metricNames('histogram_quantile(0.99, sum by (le, instrument) (rate(a_bucket{instrument=~"$x"}[5m])))')).toEqual(['a_bucket']);
    expect(metricNames('time() - b > 2 * c')).toEqual(['b', 'c']);
    expect(metricNames('x / (x offset 24h or y) - 1')).toEqual(['x', 'y']);
    expect(metricNames('d > on(job, instance) e')).toEqual(['d', 'e']);
    expect(metricNames('topk by (instrument) (1, f)')).toEqual(['f']);
    expect(metricNames('sum(g{state="open"}) * 1e3')).toEqual(['g']);
  });
});
