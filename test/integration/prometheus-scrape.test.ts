/**
 * A real Prometheus (Debian's, started by `scripts/services.sh prometheus-up` on a free port, 1 s scrapes, the alert
 * rules loaded) scrapes a small exporter process serving the metrics module with sample values, plus a target where
 * nothing listens (a stopped runner). Then every PromQL expression of the dashboards and of the alert rules is
 * evaluated through the HTTP API and must return data; every alert must be pending or firing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertRules, dashboardExpressions, freePort, sleep, TestPrometheus, values } from '../support/prometheus.js';

const root = process.cwd();

let exporter: ChildProcess | undefined;
let exporterTarget = '';
let downTarget = '';
let prometheus: TestPrometheus | undefined;
const query = (expr: string) => prometheus!.query(expr);

beforeAll(async () => {
  const downPort = await freePort();
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

  prometheus = await TestPrometheus.start([exporterTarget, downTarget]);

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
  prometheus?.stop();
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
    for (const { file, panel, expr } of dashboardExpressions()) {
      const r = await query(expr);
      evaluated++;
      if (r.status !== 'success') failures.push(`${file} / ${panel}: ${r.error} in ${expr}`);
      else if (values(r).length === 0) failures.push(`${file} / ${panel}: no data for ${expr}`);
      else if (!values(r).some(Number.isFinite)) failures.push(`${file} / ${panel}: only NaN/Inf for ${expr}`);
    }
    expect(failures).toEqual([]);
    expect(evaluated).toBeGreaterThan(100);
  });

  it('every alert expression returns data, and every alert is pending or firing', async () => {
    const alerts = alertRules();
    const failures: string[] = [];
    for (const rule of alerts) {
      const r = await query(rule.expr);
      if (r.status !== 'success' || values(r).length === 0) failures.push(`${rule.alert}: no data for ${rule.expr} (${r.error ?? 'empty'})`);
    }
    expect(failures).toEqual([]);
    // The rule manager evaluates every second; give it a couple of rounds.
    let active = new Set<string>();
    for (let i = 0; i < 20 && active.size < alerts.length; i++) {
      active = await prometheus!.activeAlerts();
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
  return alertRules().find((r) => r.alert === alert)!.expr;
}
