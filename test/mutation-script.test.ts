/**
 * scripts/mutation.sh runs each group's Stryker run under a private TMPDIR it removes afterwards, also when it is killed:
 * mutants that break a test's cleanup leave files in the temp folder. Stryker itself is replaced by a fake `npx` first
 * on PATH that records the TMPDIR it got and leaves a file in it (what such a mutant does). The script runs as a copy
 * in a scratch folder (it works in its own checkout: reports/mutation there, not this one's).
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

describe('scripts/mutation.sh', () => {
  let root: string;
  let bin: string;
  let record: string;
  let outer: string;
  let script: string;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'tm-mutation-script-'));
    bin = join(root, 'bin');
    outer = join(root, 'tmp');
    record = join(root, 'record');
    for (const d of [bin, outer, join(root, 'repo', 'scripts')]) mkdirSync(d, { recursive: true });
    script = join(root, 'repo', 'scripts', 'mutation.sh');
    copyFileSync('scripts/mutation.sh', script);
    writeFileSync(record, '');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  /**
   * A fake npx: appends its TMPDIR and arguments to the record, leaves a file in it and a folder beside it (what
   * `mkdtemp(join(tmpdir(), ''))` makes: `<TMPDIR>XXXXXX`) unless `leak` is false, then runs `then` (shell).
   */
  function fakeNpx(then: string, leak = true): void {
    const path = join(bin, 'npx');
    const leaks = leak ? 'echo leak > "$TMPDIR/tm-sweep-returns-x"\nmkdir "${TMPDIR}Ab12Cd"\n' : '';
    writeFileSync(path, `#!/usr/bin/env bash\necho "$TMPDIR|$*" >> ${JSON.stringify(record)}\n${leaks}${then}\n`);
    chmodSync(path, 0o755);
  }
  const env = (): NodeJS.ProcessEnv => ({ ...process.env, PATH: `${bin}:${process.env['PATH'] ?? ''}`, TMPDIR: outer });
  const runs = (): { tmp: string; args: string }[] =>
    readFileSync(record, 'utf8').trim().split('\n').map((l) => ({ tmp: l.split('|')[0]!, args: l.split('|')[1]! }));

  it('gives each group its own TMPDIR under the caller’s and removes it with what the run left there', () => {
    fakeNpx('echo "{}" > reports/mutation/mutation.json'); // Stryker's report, in the checkout the script runs in
    const r = spawnSync('bash', [script, 'sweep-aggregate', 'model-loader'], { env: env(), encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(readdirSync(join(root, 'repo', 'reports', 'mutation')).sort()).toEqual(['model-loader.json', 'sweep-aggregate.json']);
    const [a, b] = runs();
    expect(a!.args).toContain('stryker run --mutate src/sweep/aggregate.ts');
    expect(b!.args).toContain('stryker run --mutate src/registry/model-loader.ts');
    for (const run of [a!, b!]) expect(run.tmp.startsWith(join(outer, 'tm-mutation-'))).toBe(true);
    expect(a!.tmp).not.toBe(b!.tmp);
    expect(readdirSync(outer)).toEqual([]); // both folders, the files left in them and the folders beside them are gone
    expect(r.stdout).toContain('=== mutation sweep-aggregate: removed 2 entries the run left in its private TMPDIR (or beside it)');
  });

  it('goes on quietly when a run leaves nothing', () => {
    fakeNpx('exit 0', false);
    const r = spawnSync('bash', [script, 'model-loader', 'sweep-aggregate'], { env: env(), encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(runs()).toHaveLength(2);
    expect(r.stdout).not.toContain('removed');
    expect(r.stdout).toContain('=== mutation sweep-aggregate: exit 0');
    expect(readdirSync(outer)).toEqual([]);
  });

  it('removes it when a group fails, and still exits non-zero', () => {
    fakeNpx('exit 1');
    const r = spawnSync('bash', [script, 'sweep-aggregate'], { env: env(), encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('mutation: failed (below the break threshold, or Stryker could not run): sweep-aggregate');
    expect(runs()).toHaveLength(1);
    expect(readdirSync(outer)).toEqual([]);
  });

  it('removes it when the script is stopped during a run', async () => {
    // The fake run signals that it started, then waits to be stopped.
    const started = join(root, 'started');
    fakeNpx(`touch ${JSON.stringify(started)}; sleep 30`);
    // Its own process group, stopped as a whole (what a cancelled job or Ctrl-C does): the fake run goes too.
    const child = spawn('bash', [script, 'sweep-aggregate'], { env: env(), stdio: 'ignore', detached: true });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    for (let i = 0; i < 200 && !existsSync(started); i++) await new Promise((r) => setTimeout(r, 25));
    expect(existsSync(started)).toBe(true);
    expect(readdirSync(outer)).toHaveLength(2); // the run's folder and the one beside it, while it runs
    process.kill(-child.pid!, 'SIGTERM');
    expect(await exited).not.toBe(0);
    expect(readdirSync(outer)).toEqual([]);
  });
});
