/**
 * A real Prometheus for the monitoring tests: `scripts/services.sh prometheus-up` on a free port (1 s scrapes, the
 * alert rules loaded) and its HTTP API, plus the dashboards' and alert rules' expressions to evaluate.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Dashboard } from '@grafana/schema';
import { parse } from 'yaml';
import { dashboardQueries } from '../../scripts/dashboards/build.js';
import { DASHBOARDS_DIR, DASHBOARD_SPECS } from '../../scripts/generate-dashboards.js';
import { substituteGrafanaVariables } from './promql.js';

const root = process.cwd();
const services = join(root, 'scripts/services.sh');

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface QueryResponse {
  status: string;
  error?: string;
  data: { resultType: string; result: { metric: Record<string, string>; value?: [number, string] }[] | [number, string] };
}

/** Result values of an instant query (vector samples or the scalar). */
export function values(r: QueryResponse): number[] {
  if (r.data.resultType === 'scalar') return [Number((r.data.result as [number, string])[1])];
  return (r.data.result as { value?: [number, string] }[]).map((s) => Number(s.value![1]));
}

/** Every query of every dashboard, its Grafana variables substituted. */
export function dashboardExpressions(): { file: string; panel: string; expr: string }[] {
  return Object.keys(DASHBOARD_SPECS).flatMap((file) => {
    const dashboard = JSON.parse(readFileSync(join(DASHBOARDS_DIR, file), 'utf8')) as Dashboard;
    return dashboardQueries(dashboard).map((q) => ({ file, panel: q.panel, expr: substituteGrafanaVariables(q.expr) }));
  });
}

/** The alert rules of docker/prometheus/alert-rules.yml. */
export function alertRules(): { alert: string; expr: string }[] {
  const rules = parse(readFileSync(join(root, 'docker/prometheus/alert-rules.yml'), 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] };
  return rules.groups.flatMap((g) => g.rules);
}

/** A Prometheus of `scripts/services.sh` on a free port, state in `stateDir` (its own: tests may run side by side). */
export class TestPrometheus {
  private constructor(
    readonly url: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  /** Starts it scraping `targets` (HOST:PORT) every second. @throws when services.sh fails. */
  static async start(targets: readonly string[], stateDir?: string): Promise<TestPrometheus> {
    const port = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env, TM_PROMETHEUS_PORT: String(port), TM_PROMETHEUS_SCRAPE_INTERVAL: '1s', ...(stateDir !== undefined ? { TM_SERVICES_STATE: stateDir } : {}) };
    const up = spawnSync('bash', [services, 'prometheus-up', ...targets], { env, encoding: 'utf8', timeout: 120_000 });
    if (up.status !== 0) throw new Error(`services.sh prometheus-up failed (${up.status}): ${up.stderr}`);
    return new TestPrometheus(`http://127.0.0.1:${port}`, env);
  }

  async query(expr: string): Promise<QueryResponse> {
    const response = await fetch(`${this.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
    return (await response.json()) as QueryResponse;
  }

  /** Names of the alerts pending or firing now. */
  async activeAlerts(): Promise<Set<string>> {
    const response = (await (await fetch(`${this.url}/api/v1/alerts`)).json()) as { data: { alerts: { labels: { alertname: string }; state: string }[] } };
    return new Set(response.data.alerts.filter((a) => a.state === 'pending' || a.state === 'firing').map((a) => a.labels.alertname));
  }

  stop(): void {
    spawnSync('bash', [services, 'prometheus-down'], { env: this.env, encoding: 'utf8', timeout: 60_000 });
  }
}
