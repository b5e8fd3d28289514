import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
}

/** Static checks of .github/workflows/nightly.yml (parsed as YAML, not run). */
describe('nightly workflow', () => {
  const workflow = parse(readFileSync('.github/workflows/nightly.yml', 'utf8')) as {
    on: { schedule?: { cron: string }[]; workflow_dispatch?: unknown };
    jobs: Record<string, { steps: Step[] }>;
  };
  const steps = Object.values(workflow.jobs).flatMap((j) => j.steps);
  const runs = steps.map((s) => s.run ?? '');

  it('runs on a schedule and on demand', () => {
    expect(workflow.on.schedule?.[0]?.cron).toMatch(/^(\S+\s+){4}\S+$/);
    expect('workflow_dispatch' in workflow.on).toBe(true);
  });

  it('checks out, sets up Node 20 and installs with npm ci', () => {
    expect(steps.some((s) => s.uses?.startsWith('actions/checkout@'))).toBe(true);
    const node = steps.find((s) => s.uses?.startsWith('actions/setup-node@'));
    expect(String(node?.with?.['node-version'])).toBe('20');
    expect(runs).toContain('npm ci');
  });

  it('imports the shared data (or fetches), then runs tm backtest --all', () => {
    const importAt = runs.findIndex((r) => r.includes('npx tm data import "$TM_SHARED_DATA"'));
    const fetchAt = runs.findIndex((r) => r.includes('npx tm data fetch'));
    const backtestAt = runs.findIndex((r) => /npx tm backtest --all\b/.test(r));
    expect(importAt).toBeGreaterThanOrEqual(0);
    expect(fetchAt).toBeGreaterThanOrEqual(0);
    expect(backtestAt).toBeGreaterThan(Math.max(importAt, fetchAt));
    expect(steps[backtestAt]!.if).toBeUndefined();
  });

  it('runs the live crash and fault campaigns without services: TM_SERVICES=external and no Redis state store', () => {
    const job = (workflow.jobs as Record<string, { env?: Record<string, unknown>; steps: Step[] }>)['live-campaigns'];
    expect(job).toBeDefined();
    const campaign = job!.steps.find((s) => s.run?.includes('live-crash-demo.test.ts'));
    expect(campaign?.run).toMatch(/^TM_SERVICES=external /);
    // Unset, REDIS_URL would default to services.sh's local Redis, which this job never starts: every demo life
    // would start with an ALERT and the crash test fails (run locally with no service: it does).
    expect(job!.env?.['REDIS_URL']).toBe('none');
    expect(job!.steps.some((s) => s.run?.includes('services.sh'))).toBe(false);
    // A demo campaign tm replay disagreed with keeps its journal in TM_CRASH_KEEP, uploaded when the job fails.
    const keep = String(job!.env?.['TM_CRASH_KEEP']);
    expect(keep).toMatch(/\/crash-journals$/);
    const upload = job!.steps.find((s) => s.uses?.startsWith('actions/upload-artifact@'));
    expect(upload).toMatchObject({ if: 'failure()', with: { path: 'crash-journals/**' } });
  });

  it('uploads experiments/results as an artifact even when the backtests fail', () => {
    const upload = steps.find((s) => s.uses?.startsWith('actions/upload-artifact@'));
    expect(upload).toBeDefined();
    expect(upload!.with?.['path']).toBe('experiments/results/**');
    expect(upload!.if).toBe('always()');
  });

  it('runs mutation testing (npm run mutation → scripts/mutation.sh) nightly, one job per group, and .ci/run does not', () => {
    expect(runs).toContain('npm run mutation -- ${{ matrix.group }}');
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts['mutation']).toBe('bash scripts/mutation.sh');
    // every group of the script, and only those, has a nightly job
    const script = readFileSync('scripts/mutation.sh', 'utf8');
    const groups = /^ALL=\(([^)]*)\)$/m.exec(script)?.[1]?.split(' ');
    const matrix = (workflow.jobs['mutation'] as unknown as { strategy: { matrix: { group: string[] } } }).strategy.matrix.group;
    expect(matrix).toEqual(groups);
    expect(readFileSync('.ci/run', 'utf8')).not.toMatch(/mutation|stryker/);
  });

  it('the mutation job installs promtool before npm run mutation (tests in its set run it; a failing first run judges nothing)', () => {
    const job = workflow.jobs['mutation']!.steps.map((s) => s.run ?? '');
    const promtoolAt = job.findIndex((r) => /apt-get install .*\bprometheus\b/.test(r));
    expect(promtoolAt).toBeGreaterThanOrEqual(0);
    expect(promtoolAt).toBeLessThan(job.findIndex((r) => r.startsWith('npm run mutation')));
    // and the service-free set leaves out the Redis-backed contract (no services in that job)
    expect(readFileSync('vitest.mutation.config.ts', 'utf8')).toContain("'test/contract/state-stores.test.ts'");
  });
});
