/**
 * docker/prometheus/alert-rules.yml with the real promtool: `check rules`, `test rules` (alert-rules.test.yml), and
 * a mutation check that each alert's unit tests fail when its expression never fires.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { promtool } from '../support/promtool.js';

const dir = join(process.cwd(), 'docker/prometheus');
const REQUIRED = ['TradeMatrixRunnerDown', 'TradeMatrixCircuitBreakerOpen', 'TradeMatrixStaleData', 'TradeMatrixReconciliationDifference', 'TradeMatrixDrawdownOverLimit', 'TradeMatrixNoBarForTwoPeriods', 'TradeMatrixModelSwapFailed'];
interface RuleFile { groups: { name: string; rules: { alert: string; expr: string }[] }[] }
const rules = parse(readFileSync(join(dir, 'alert-rules.yml'), 'utf8')) as RuleFile;
const scratch = mkdtempSync(join(tmpdir(), 'tm-rules-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('alert rules (real promtool)', () => {
  it('declare the seven required alerts and pass promtool check rules', () => {
    expect(rules.groups.flatMap((g) => g.rules.map((r) => r.alert)).sort()).toEqual([...REQUIRED].sort());
    const run = promtool(['check', 'rules', 'alert-rules.yml'], undefined, dir);
    expect(run.output).toContain('SUCCESS: 7 rules found');
    expect(run.status).toBe(0);
  });

  it('pass their unit tests: promtool test rules alert-rules.test.yml', () => {
    const run = promtool(['test', 'rules', 'alert-rules.test.yml'], undefined, dir);
    expect(run.output).toContain('SUCCESS');
    expect(run.status).toBe(0);
  });

  it.each(REQUIRED)('the unit tests catch %s never firing', (alert) => {
    const mutated = structuredClone(rules);
    for (const g of mutated.groups) for (const r of g.rules) if (r.alert === alert) r.expr = 'vector(1) == 0';
    cpSync(join(dir, 'alert-rules.test.yml'), join(scratch, 'alert-rules.test.yml'));
    writeFileSync(join(scratch, 'alert-rules.yml'), stringify(mutated));
    const run = promtool(['test', 'rules', 'alert-rules.test.yml'], undefined, scratch);
    expect(run.status).not.toBe(0);
    expect(run.output).toContain(`alertname: ${alert}`);
  });
});
