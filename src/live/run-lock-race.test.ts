import * as fs from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/support/shared-data.js';
import { acquireRunLock, RunLockError, type LockFileSteps } from './run-lock.js';

/**
 * The lock file's races (the lock of platforms other than Linux), made to happen at the worst instant: a second start
 * runs in full just before one of the first start's steps on `run.lock` (see LockFileSteps).
 */
function stepsWith(at: keyof LockFileSteps, competitor: () => void): LockFileSteps & { readonly ran: () => boolean } {
  let pending: (() => void) | undefined = competitor;
  const before =
    (name: keyof LockFileSteps) =>
    (a: string, b: string): void => {
      if (name === at && (a.endsWith('run.lock') || b.endsWith('run.lock')) && pending !== undefined) {
        const run = pending;
        pending = undefined;
        run();
      }
      fs[name](a, b);
    };
  return { linkSync: before('linkSync'), renameSync: before('renameSync'), ran: () => pending === undefined };
}

/**
 * Takes the lock of `dir` while a competing start (in another process, as far as the lock can tell) runs its whole
 * attempt just before this one's first `at` step on the lock file; both outcomes.
 */
async function contested(dir: string, at: keyof LockFileSteps): Promise<{ first: unknown; second: unknown }> {
  let second: Promise<unknown> | undefined;
  const steps = stepsWith(at, () => {
    second = acquireRunLock(dir, { platform: 'darwin' }).catch((e: unknown) => e);
  });
  const first = await acquireRunLock(dir, { platform: 'darwin', steps }).catch((e: unknown) => e);
  if (second === undefined) throw new Error(`no competitor ran: ${at} was not called on run.lock`);
  return { first, second: await second };
}

const holds = (outcome: unknown) => !(outcome instanceof Error);

/** Steps that run `before` just before the second link to `run.lock`: a holder's republishing of its removed file (RunLock.lost). */
function beforeRepublishing(before: () => void): LockFileSteps & { readonly links: () => number } {
  let links = 0;
  return {
    renameSync: (a, b) => fs.renameSync(a, b),
    linkSync: (a, b) => {
      if (++links === 2) before();
      fs.linkSync(a, b);
    },
    links: () => links,
  };
}

/** A run folder whose lock file names a process that does not exist (pid 999999999): stale. */
function staleFolder(): { readonly dir: string; readonly path: string } {
  const dir = join(tempDir('tm-run-lock-race-'), 'run');
  fs.mkdirSync(dir);
  const path = join(dir, 'run.lock');
  fs.writeFileSync(path, '999999999\n');
  return { dir, path };
}

describe('acquireRunLock (lock file), races', () => {
  it('two starts at once on a free folder: one holds it, the other is refused', async () => {
    const dir = join(tempDir('tm-run-lock-race-'), 'run');
    fs.mkdirSync(dir);
    // The competitor publishes its lock just before the first start links its own. (An exclusive create followed by
    // a write of the id, as before, let a competitor in between find an empty file, take it for stale and replace it.)
    const { first, second } = await contested(dir, 'linkSync');
    expect([holds(first), holds(second)].filter(Boolean)).toHaveLength(1);
    const refused = (holds(first) ? second : first) as RunLockError;
    expect(refused.code).toBe('run_locked');
    expect(fs.readFileSync(join(dir, 'run.lock'), 'utf8')).toBe(`${process.pid}\n`);
    expect(fs.readdirSync(dir)).toEqual(['run.lock']); // no temporary file left behind
  });

  it('two starts at once on a stale lock file: one takes it over, the other is refused', async () => {
    const { dir } = staleFolder();
    // Both found the stale file; the competitor takes it over completely before the first removes what it found.
    const { first, second } = await contested(dir, 'renameSync');
    // The first start moved the competitor's new lock aside, found its process alive, put it back and gave way.
    expect(holds(second)).toBe(true);
    expect(first).toBeInstanceOf(RunLockError);
    expect((first as RunLockError).context).toMatchObject({ pid: process.pid });
    expect(fs.readFileSync(join(dir, 'run.lock'), 'utf8')).toBe(`${process.pid}\n`);
    expect(fs.readdirSync(dir)).toEqual(['run.lock']);
  });

  it('a stale lock file another start moved away meanwhile: this start takes the folder', async () => {
    const { dir, path } = staleFolder();
    const steps = stepsWith('renameSync', () => fs.unlinkSync(path)); // another start's move aside, before it publishes its own
    const lock = await acquireRunLock(dir, { platform: 'darwin', steps });
    expect(steps.ran()).toBe(true);
    expect(fs.readFileSync(path, 'utf8')).toBe(`${process.pid}\n`);
    await lock.release();
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('a start refused by a living holder moves nothing', async () => {
    const dir = join(tempDir('tm-run-lock-race-'), 'run');
    const held = await acquireRunLock(dir, { platform: 'darwin' });
    const calls: string[] = [];
    const steps: LockFileSteps = {
      linkSync: (a, b) => (calls.push('link'), fs.linkSync(a, b)),
      renameSync: (a, b) => (calls.push('rename'), fs.renameSync(a, b)),
    };
    const e = await acquireRunLock(dir, { platform: 'darwin', steps }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RunLockError);
    expect(calls).toEqual(['link']); // the holder's file was never moved aside, not even for an instant
    await held.release();
  });

  it('a lock file that comes back stale after a takeover is refused, not taken over again and again', async () => {
    const { dir, path } = staleFolder();
    let renames = 0;
    const steps: LockFileSteps = {
      linkSync: (a, b) => fs.linkSync(a, b),
      renameSync: (a, b) => {
        fs.renameSync(a, b);
        if (++renames < 100) fs.writeFileSync(path, '999999998\n'); // another stale file at once
      },
    };
    const e = await acquireRunLock(dir, { platform: 'darwin', steps }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RunLockError);
    expect((e as RunLockError).context).toMatchObject({ pid: 999999998 });
    expect(renames).toBe(1);
  });

  it('a file system error is the error (a folder without hard links, a lock file it may not move), not a refusal', async () => {
    const dir = join(tempDir('tm-run-lock-race-'), 'run');
    fs.mkdirSync(dir);
    const fail = (code: string) => () => {
      throw Object.assign(new Error(`${code}: refused by the test`), { code });
    };
    const noLinks: LockFileSteps = { linkSync: fail('EPERM'), renameSync: (a, b) => fs.renameSync(a, b) };
    await expect(acquireRunLock(dir, { platform: 'darwin', steps: noLinks })).rejects.toMatchObject({ code: 'EPERM' });
    expect(fs.readdirSync(dir)).toEqual([]); // its own file removed
    fs.writeFileSync(join(dir, 'run.lock'), '999999999\n');
    const noMoves: LockFileSteps = { linkSync: (a, b) => fs.linkSync(a, b), renameSync: fail('EACCES') };
    await expect(acquireRunLock(dir, { platform: 'darwin', steps: noMoves })).rejects.toMatchObject({ code: 'EACCES' });
    expect(fs.readdirSync(dir)).toEqual(['run.lock']);
  });

  it('the race left: a third start publishes while the moved lock is away; the second is put back no more, and gives way', async () => {
    const { dir } = staleFolder();
    const others: unknown[] = [];
    let step = 0;
    const steps: LockFileSteps = {
      renameSync: (a, b) => {
        // Before this start moves the stale file: another start takes it over.
        if (step++ === 0) others.push(acquireRunLock(dir, { platform: 'darwin' }));
        fs.renameSync(a, b);
      },
      linkSync: (a, b) => {
        // Before this start puts the other's lock back: a third start finds the folder free and links its own.
        if (a.endsWith('.stale') && step++ === 1) others.push(acquireRunLock(dir, { platform: 'darwin' }));
        fs.linkSync(a, b);
      },
    };
    const e = await acquireRunLock(dir, { platform: 'darwin', steps }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RunLockError); // not the put-back's EEXIST
    expect(others).toHaveLength(2);
    const held = await Promise.all(others);
    expect(held.every((x) => !(x instanceof Error))).toBe(true); // both others hold: the documented race
    expect(fs.readdirSync(dir)).toEqual(['run.lock']);
  });

  it('a holder that publishes its removed file again loses to a start that linked first: lost, naming it', async () => {
    const dir = join(tempDir('tm-run-lock-race-'), 'run');
    const path = join(dir, 'run.lock');
    // Another start (pid 1, alive) links just before the holder republishes.
    const steps = beforeRepublishing(() => fs.writeFileSync(path, '1\n', { flag: 'wx' }));
    const lock = await acquireRunLock(dir, { platform: 'darwin', steps });
    fs.unlinkSync(path); // removed by hand
    expect(lock.lost()).toStrictEqual({ pid: 1 });
    expect(steps.links()).toBe(2);
    expect(fs.readdirSync(dir)).toEqual(['run.lock']); // its own file is not left behind
    await lock.release();
    expect(fs.readFileSync(path, 'utf8')).toBe('1\n');
  });

  it('a republishing link that fails otherwise (no hard links: EPERM) is that error', async () => {
    const dir = join(tempDir('tm-run-lock-race-'), 'run');
    const steps = beforeRepublishing(() => {
      throw Object.assign(new Error('EPERM: operation not permitted, link'), { code: 'EPERM' });
    });
    const lock = await acquireRunLock(dir, { platform: 'darwin', steps });
    fs.unlinkSync(join(dir, 'run.lock'));
    let thrown: unknown;
    try {
      lock.lost();
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toMatchObject({ code: 'EPERM' });
    expect(fs.readdirSync(dir)).toEqual([]);
    await lock.release();
  });
});
