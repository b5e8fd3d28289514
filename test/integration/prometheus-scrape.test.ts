/**
 * A real Prometheus (Debian's, started by `scripts/services.sh prometheus-up` on a free port, 1 s scrapes, the alert
 * rules loaded) scrapes a small exporter process serving the metrics module with sample values, plus a target where
 * nothing listens (a stopped runner). Then every PromQL expression of the dashboards and of the alert rules is
 * evaluated through the HTTP API and must return data; every alert must be pending or firing.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Dashboard } from '@grafana/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { dashboardQueries } from '../../scripts/dashboards/build.js';
import { DASHBOARDS_DIR, DASHBOARD_SPECS } from '../../scripts/generate-dashboards.js';
import { substituteGrafanaVariables } from '../support/promql.js';

const root = process.cwd();
const services = join(root, 'scripts/services.sh');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let exporter: ChildProcess | undefined;
let exporterTarget = '';
let downTarget = '';
let prometheusUrl = '';
const env = { ...process.env };

interface QueryResponse {
  status: string;
  error?: string;
  data: { resultType: string; result: { metric: Record<string, string>; value?: [number, string] }[] | [number, string] };
}

async function query(expr: string): Promise<QueryResponse> {
  const response = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
  return (await response.json()) as QueryResponse;
}

/** Result values of an instant query (vector samples or the scalar). */
function values(r: QueryResponse): number[] {
  if (r.data.resultType === 'scalar') return [Number((r.data.result as [number, string])[1])];
  return (r.data.result as { value?: [number, string] }[]).map((s) => Number(s.value![1]));
}

beforeAll(async () => {
  const [prometheusPort, downPort] = await Promise.all([freePort(), freePort()]);
  env['TM_PROMETHEUS_PORT'] = String(prometheusPort);
  env['TM_PROMETHEUS_SCRAPE_INTERVAL'] = '1s';
  prometheusUrl = `http://127.0.0.1:${prometheusPort}`;
  downTarget = `127.0.0.1:${downPort}`;

  exporter = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', join(root, 'test/support/metrics-exporter.ts'), '--port', '0'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  exporterTarget = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the metrics exporter did not start within 30 s')), 30_000);
    let out = '';
    exporter!.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /listening http:\/\/(\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    exporter!.once('exit', (code) => reject(new Error(`the metrics exporter exited with ${code}`)));
  });

  const up = spawnSync('bash', [services, 'prometheus-up', exporterTarget, downTarget], { env, encoding: 'utf8', timeout: 120_000 });
  if (up.status !== 0) throw new Error(`services.sh prometheus-up failed (${up.status}): ${up.stderr}`);

  // Wait for ≥ 8 scrapes of the exporter (rate/increase need two samples) and the failed scrape of the down target.
  const deadline = Date.now() + 60_000;
  for (;;) {
    const scrapes = values(await query(`count_over_time(up{instance="${exporterTarget}"}[5m])`))[0] ?? 0;
    const down = values(await query(`up{instance="${downTarget}"}`))[0];
    if (scrapes >= 8 && down === 0) break;
    if (Date.now() > deadline) throw new Error(`Prometheus scraped the exporter ${scrapes} times in 60 s`);
    await sleep(500);
  }
}, 180_000);

afterAll(async () => {
  spawnSync('bash', [services, 'prometheus-down'], { env, encoding: 'utf8', timeout: 60_000 });
  if (exporter && exporter.exitCode === null) {
    exporter.kill('SIGTERM');
    await new Promise((r) => exporter!.once('exit', r));
  }
}, 90_000);

describe('real Prometheus scraping the metrics module', () => {
  it('scrapes the exporter (up = 1) and reports the stopped target as down (up = 0)', async () => {
    expect(values(await query(`up{job="trade-matrix-runner",instance="${exporterTarget}"}`))).toEqual([1]);
    expect(values(await query(`up{job="trade-matrix-runner",instance="${downTarget}"}`))).toEqual([0]);
  });

  it('every dashboard query returns data with finite values', async () => {
    const failures: string[] = [];
    let evaluated = 0;
    for (const file of Object.keys(DASHBOARD_SPECS)) {
      const dashboard = JSON.parse(readFileSync(join(DASHBOARDS_DIR, file), 'utf8')) as Dashboard;
      for (const q of dashboardQueries(dashboard)) {
        const expr = substituteGrafanaVariables(q.expr);
        const r = await query(expr);
        evaluated++;
        if (r.status !== 'success') failures.push(`${file} / ${q.panel}: ${r.error} in ${expr}`);
        else if (values(r).length === 0) failures.push(`${file} / ${q.panel}: no data for ${expr}`);
        else if (!values(r).some(Number.isFinite)) failures.push(`${file} / ${q.panel}: only NaN/Inf for ${expr}`);
      }
    }
    expect(failures).toEqual([]);
    expect(evaluated).toBeGreaterThan(100);
  });

  it('every alert expression returns data, and every alert is pending or firing', async () => {
    const rules = parse(readFileSync(join(root, 'docker/prometheus/alert-rules.yml'), 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] };
    const alerts = rules.groups.flatMap((g) => g.rules);
    const failures: string[] = [];
    for (const rule of alerts) {
      const r = await query(rule.expr);
      if (r.status !== 'success' || values(r).length === 0) failures.push(`${rule.alert}: no data for ${rule.expr} (${r.error ?? 'empty'})`);
    }
    expect(failures).toEqual([]);
    // The rule manager evaluates every second; give it a couple of rounds.
    let active = new Set<string>();
    for (let i = 0; i < 20 && active.size < alerts.length; i++) {
      const response = (await (await fetch(`${prometheusUrl}/api/v1/alerts`)).json()) as { data: { alerts: { labels: { alertname: string }; state: string }[] } };
      active = new Set(response.data.alerts.filter((a) => a.state === 'pending' || a.state === 'firing').map((a) => a.labels.alertname));
      if (active.size < alerts.length) await sleep(500);
    }
    expect([...active].sort()).toEqual(alerts.map((a) => a.alert).sort());
  });

  it('the no-bar alert fires for the stale instrument only (SOL, 3 periods old), not for the fresh ones', async () => {
    const r = await query(rulesExpr('TradeMatrixNoBarForTwoPeriods'));
    expect((r.data.result as { metric: Record<string, string> }[]).map((s) => s.metric['instrument'])).toEqual(['SOLUSDT-LINEAR.BYBIT']);
  });
});

function rulesExpr(alert: string): string {
  const rules = parse(readFileSync(join(root, 'docker/prometheus/alert-rules.yml'), 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] };
  return rules.groups.flatMap((g) => g.rules).find((r) => r.alert === alert)!.expr;
}
