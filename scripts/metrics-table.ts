/**
 * Rewrites the metric table in README.md from src/monitoring/metric-definitions.ts.
 *
 *   npx tsx scripts/metrics-table.ts          # rewrite README.md
 *   npx tsx scripts/metrics-table.ts --check  # exit 1 when README.md is out of date
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { replaceMetricsTable } from '../src/monitoring/metrics-table.js';
import { REPO_ROOT } from './services-env.js';

const args = process.argv.slice(2);
if (args.includes('--help')) {
  console.log('usage: npx tsx scripts/metrics-table.ts [--check]\nRewrites the metric table of README.md from src/monitoring/metric-definitions.ts; --check only compares (exit 1 when stale).');
  process.exit(0);
}
const path = join(REPO_ROOT, 'README.md');
const current = readFileSync(path, 'utf8');
const next = replaceMetricsTable(current);
if (args.includes('--check')) {
  if (next !== current) {
    console.error('README.md metric table is out of date: run npx tsx scripts/metrics-table.ts');
    process.exit(1);
  }
} else if (next !== current) {
  writeFileSync(path, next);
  console.log('README.md metric table updated');
}
