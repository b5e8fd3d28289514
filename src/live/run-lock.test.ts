import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/support/shared-data.js';
import { acquireRunLock, probeRunLock, RunLockError } from './run-lock.js';

const RUN_LOCK = new URL('./run-lock.ts', import.meta.url).pathname;

/**
 * A child process (node with tsx's loader) that takes the lock of `dir` on `platform`, prints `held`, and keeps it
 * until killed (`busy`: with its event loop blocked). Resolves once it holds it.
 */
async function holder(dir: string, platform: NodeJS.Platform, options: { readonly busy?: boolean } = {}) {
  // busy: once it holds the lock, its event loop never turns again (a process stuck in a computation).
  const after = options.busy === true ? 'const end = Date.now() + 30000; while (Date.now() < end);' : 'setInterval(() => {}, 1000);';
  const code = `import(${JSON.stringify(RUN_LOCK)}).then(async (m) => { await m.acquireRunLock(${JSON.stringify(dir)}, { platform: ${JSON.stringify(platform)} }); console.log('held'); setTimeout(() => { ${after} }, 50); });`;
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d) => String(d).includes('held') && resolve());
    child.on('exit', (code) => reject(new Error(`the lock holder exited (${code}) before it held the lock`)));
  });
  return { pid: child.pid!, kill: async () => (child.kill('SIGKILL'), await exited) };
}

async function refusal(dir: string, platform: NodeJS.Platform): Promise<RunLockError> {
  const e = await acquireRunLock(dir, { platform }).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(RunLockError);
  return e as RunLockError;
}

describe.each(['linux', 'darwin'] as const)('acquireRunLock (%s)', (platform) => {
  it('holds a run folder for one process at a time; released, it is free again', async () => {
    const dir = join(tempDir('tm-run-lock-'), 'run');
    const lock = await acquireRunLock(dir, { platform });
    expect(existsSync(dir)).toBe(true);
    const again = await refusal(dir, platform);
    expect(again.code).toBe('run_locked');
    expect(again.context).toMatchObject({ pid: process.pid });
    expect(again.message).toContain(`is in use by this process (pid ${process.pid})`);
    await lock.release();
    const next = await acquireRunLock(dir, { platform });
    await next.release();
  });

  it('names the other process that holds it; a holder killed with SIGKILL frees it', async () => {
    const dir = join(tempDir('tm-run-lock-'), 'run');
    expect(await probeRunLock(dir, { platform })).toEqual({ held: false }); // no folder yet
    const other = await holder(dir, platform);
    expect(await probeRunLock(dir, { platform })).toEqual({ held: true, pid: other.pid });
    try {
      const e = await refusal(dir, platform);
      expect(e.context).toMatchObject({ pid: other.pid });
      expect(e.message).toMatch(new RegExp(`run folder \\S+ is in use by process ${other.pid}: one life of a run at a time`));
    } finally {
      await other.kill();
    }
    expect(await probeRunLock(dir, { platform })).toEqual({ held: false });
    const lock = await acquireRunLock(dir, { platform });
    expect(await probeRunLock(dir, { platform })).toEqual({ held: true, pid: process.pid });
    await lock.release();
    expect(await probeRunLock(dir, { platform })).toEqual({ held: false });
  }, 30_000);

  it('is one lock per folder, whatever path names it', async () => {
    const root = tempDir('tm-run-lock-');
    const dir = join(root, 'run');
    mkdirSync(dir);
    symlinkSync(dir, join(root, 'alias'));
    const lock = await acquireRunLock(dir, { platform });
    await refusal(join(root, 'alias'), platform);
    await refusal(join(root, 'alias', '..', 'run'), platform);
    const elsewhere = await acquireRunLock(join(root, 'other'), { platform });
    await elsewhere.release();
    await lock.release();
  });
});

describe('acquireRunLock (Linux socket)', () => {
  it('a holder too busy to answer: held, its pid unknown; a start is refused naming no pid', async () => {
    const dir = join(tempDir('tm-run-lock-'), 'run');
    const busy = await holder(dir, 'linux', { busy: true });
    try {
      await new Promise((r) => setTimeout(r, 200)); // its loop is blocked by now
      expect(await probeRunLock(dir, { platform: 'linux' })).toEqual({ held: true });
      const e = await refusal(dir, 'linux');
      expect(e.context).not.toHaveProperty('pid');
      expect(e.message).toContain('is in use by another process: one life of a run at a time');
    } finally {
      await busy.kill();
    }
  }, 30_000);
});

describe('acquireRunLock (lock file)', () => {
  it('takes over a lock file that names no process (empty, 0, not a number)', async () => {
    const dir = join(tempDir('tm-run-lock-'), 'run');
    mkdirSync(dir);
    for (const text of ['', '0\n', 'x\n']) {
      writeFileSync(join(dir, 'run.lock'), text);
      expect(await probeRunLock(dir, { platform: 'darwin' })).toEqual({ held: false });
      const lock = await acquireRunLock(dir, { platform: 'darwin' });
      await lock.release();
    }
  });

  it('takes over a lock file whose process is gone, and leaves a file of another process on release', async () => {
    const dir = join(tempDir('tm-run-lock-'), 'run');
    mkdirSync(dir);
    const path = join(dir, 'run.lock');
    writeFileSync(path, '999999999\n'); // no such process
    const lock = await acquireRunLock(dir, { platform: 'darwin' });
    expect(readFileSync(path, 'utf8')).toBe(`${process.pid}\n`);
    writeFileSync(path, '1\n'); // taken by another process meanwhile (by hand): not ours to remove
    await lock.release();
    expect(readFileSync(path, 'utf8')).toBe('1\n');
    expect((await refusal(dir, 'darwin')).context).toMatchObject({ pid: 1 });
  });

  it('says when it was lost: a file of another process, or one naming none; a removed file is published again', async () => {
    const dir = join(tempDir('tm-run-lock-'), 'run');
    const path = join(dir, 'run.lock');
    const lock = await acquireRunLock(dir, { platform: 'darwin' });
    expect(lock.lost()).toBeUndefined();
    // Removed by hand: this process publishes it again, so a start after that is refused.
    unlinkSync(path);
    expect(lock.lost()).toBeUndefined();
    expect(readFileSync(path, 'utf8')).toBe(`${process.pid}\n`);
    expect((await refusal(dir, 'darwin')).context).toMatchObject({ pid: process.pid });
    expect(readdirSync(dir)).toEqual(['run.lock']); // no file of its own left beside it
    // Taken by another start (the race left, or a start between the removal and this check).
    writeFileSync(path, '1\n');
    expect(lock.lost()).toStrictEqual({ pid: 1 });
    writeFileSync(path, 'x\n');
    expect(lock.lost()).toStrictEqual({});
    await lock.release();
    expect(readFileSync(path, 'utf8')).toBe('x\n');
  });
});

describe('RunLock.lost (Linux socket)', () => {
  it('is never lost while the process lives (the kernel holds the socket)', async () => {
    const lock = await acquireRunLock(join(tempDir('tm-run-lock-'), 'run'), { platform: 'linux' });
    expect(lock.lost()).toBeUndefined();
    await lock.release();
  });
});
