/**
 * Renders the Grafana dashboards (scripts/dashboards/*.ts, typed against @grafana/schema) to
 * docker/grafana/dashboards/<uid-suffix>.json, which Grafana's file provider loads (docker/grafana/provisioning/dashboards).
 *
 *   npx tsx scripts/generate-dashboards.ts           # write
 *   npx tsx scripts/generate-dashboards.ts --check   # exit 1 when a JSON file is out of date
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildDashboard, type DashboardSpec } from './dashboards/build.js';
import { marketAnalysis } from './dashboards/market-analysis.js';
import { runnerOps } from './dashboards/runner-ops.js';
import { tradingCockpit } from './dashboards/trading-cockpit.js';
import { REPO_ROOT } from './services-env.js';

export const DASHBOARD_SPECS: Readonly<Record<string, DashboardSpec>> = {
  'trading-cockpit.json': tradingCockpit,
  'market-analysis.json': marketAnalysis,
  'runner-ops.json': runnerOps,
};
export const DASHBOARDS_DIR = join(REPO_ROOT, 'docker/grafana/dashboards');

/** The JSON text of each dashboard file. */
export function renderDashboards(): Record<string, string> {
  return Object.fromEntries(Object.entries(DASHBOARD_SPECS).map(([file, spec]) => [file, `${JSON.stringify(buildDashboard(spec), null, 2)}\n`]));
}

if (process.argv[1] && /generate-dashboards\.ts$/.test(process.argv[1])) {
  const args = process.argv.slice(2);
  if (args.includes('--help')) {
    console.log('usage: npx tsx scripts/generate-dashboards.ts [--check]\nWrites docker/grafana/dashboards/*.json from scripts/dashboards/*.ts; --check exits 1 when a file is stale.');
    process.exit(0);
  }
  let stale = 0;
  for (const [file, text] of Object.entries(renderDashboards())) {
    const path = join(DASHBOARDS_DIR, file);
    let current = '';
    try {
      current = readFileSync(path, 'utf8');
    } catch {
      // missing: written below
    }
    if (current === text) continue;
    if (args.includes('--check')) {
      console.error(`${path} is out of date: run npx tsx scripts/generate-dashboards.ts`);
      stale++;
    } else {
      writeFileSync(path, text);
      console.log(`wrote ${path}`);
    }
  }
  process.exit(stale > 0 ? 1 : 0);
}
