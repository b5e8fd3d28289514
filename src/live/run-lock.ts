import { createHash, randomBytes } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, realpathSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { AppError } from '../core/app-error.js';

export type RunLockErrorCode = 'run_locked' | 'run_lock_lost';
/** Another process holds the run folder (`context.pid`: its process id, when it answered), or took it from this one. */
export class RunLockError extends AppError<RunLockErrorCode> {}

/** One process per run folder: held from a life's start to its end. */
export interface RunLock {
  /** What holds the lock: the abstract socket's name (Linux, without its leading NUL) or the lock file. */
  readonly name: string;
  /** Frees the run folder for the next life (a process that dies frees it too: Linux at once, elsewhere at the next start). */
  release(): Promise<void>;
  /**
   * Undefined while this process still holds the lock; else who holds it now (`pid`, when the lock says). Only the lock
   * file can be lost: to the race {@link fileLock} leaves, or to a start after somebody removed the file by hand (a
   * removed file is published again, with this process's id, when no other start took its place). The kernel's socket
   * is held until the process ends.
   */
  lost(): { readonly pid?: number } | undefined;
}

/**
 * The lock file's two steps that a competing start can come between (node:fs by default): linking this start's file
 * to `run.lock`, and moving a stale one aside. Tests pass their own to run a competitor at those instants.
 */
export interface LockFileSteps {
  linkSync(existing: string, path: string): void;
  renameSync(from: string, to: string): void;
}

const FS_STEPS: LockFileSteps = { linkSync, renameSync };

/** How long a refused start waits for the holder to say its process id. */
const ASK_HOLDER_MS = 1000;

/**
 * Takes the run folder `dir` (created when missing) for this process, or throws {@link RunLockError} `run_locked`
 * naming the process that holds it: two lives of one run at once would both reconcile, send the same client order
 * ids, interleave their journal records and overwrite each other's state.json.
 *
 * On Linux the lock is an abstract Unix socket named after the folder's real path: the kernel frees it when its
 * process ends, however it ends (kill -9 included), and a refused start asks it for the holder's process id; it is seen
 * within one network namespace only (two containers sharing the folder through a volume, not their network, are not
 * kept apart: the deployment runs one replica). Elsewhere
 * it is `run.lock` in the folder, holding the process id; a file whose process is gone is stale and taken over (see
 * fileLock for the one race it leaves: three starts at the same instant on a stale file).
 */
export async function acquireRunLock(dir: string, options: { readonly platform?: NodeJS.Platform; readonly steps?: LockFileSteps } = {}): Promise<RunLock> {
  mkdirSync(dir, { recursive: true });
  const real = realpathSync(dir);
  return (options.platform ?? process.platform) === 'linux' ? socketLock(real) : fileLock(real, options.steps ?? FS_STEPS);
}

/**
 * Whether a process holds the run folder `dir` now, and its process id when it says (a holder whose event loop is
 * blocked takes the connection but does not answer in time: held, `pid` absent). What `tm live status`, `stop`
 * and `kill` ask instead of status.json's pid alone, which a process that died without saying so leaves behind, and
 * which the system may have given to another process since.
 */
export async function probeRunLock(dir: string, options: { readonly platform?: NodeJS.Platform } = {}): Promise<{ readonly held: boolean; readonly pid?: number }> {
  let real: string;
  try {
    real = realpathSync(dir);
  } catch {
    return { held: false }; // no folder, no run
  }
  if ((options.platform ?? process.platform) !== 'linux') {
    const pid = filePid(join(real, 'run.lock'));
    return pid !== undefined && alive(pid) ? { held: true, pid } : { held: false };
  }
  const answer = await ask(`\0${socketName(real)}`);
  return answer.connected ? { held: true, ...(answer.pid !== undefined ? { pid: answer.pid } : {}) } : { held: false };
}

function socketName(dir: string): string {
  return `trade-matrix/live/${createHash('sha256').update(dir).digest('hex').slice(0, 32)}`;
}

async function socketLock(dir: string): Promise<RunLock> {
  const name = socketName(dir);
  const server = createServer((socket) => socket.end(`${process.pid}\n`));
  const listened = await new Promise<Error | undefined>((resolve) => {
    server.once('error', resolve);
    server.listen(`\0${name}`, () => resolve(undefined));
  });
  if (listened !== undefined) {
    if ((listened as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw listened;
    throw locked(dir, (await ask(`\0${name}`)).pid);
  }
  server.unref(); // the lock never keeps a finished life's process alive
  return { name, release: () => closeServer(server), lost: () => undefined };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Connects to the lock's socket: whether a holder took the connection, and the process id it answered with in time. */
function ask(path: string): Promise<{ readonly connected: boolean; readonly pid?: number }> {
  return new Promise((resolve) => {
    let text = '';
    let connected = false;
    const socket = connect(path, () => (connected = true));
    const done = () => {
      socket.destroy();
      const pid = Number(text.trim());
      resolve(Number.isInteger(pid) && pid > 0 ? { connected: true, pid } : { connected });
    };
    socket.setTimeout(ASK_HOLDER_MS, done);
    socket.on('data', (d) => (text += d));
    socket.on('end', done);
    socket.on('error', done);
  });
}

/**
 * The lock file `run.lock`, holding the process id. Published whole: the id is written to a file of this process's
 * own and linked to `run.lock`, which fails when one exists, so no start ever sees a lock file without its id (an
 * exclusive create followed by a write showed an empty file for an instant, which another start took for stale and
 * replaced: both held). A stale file (its process gone, or no id in it) is taken over by moving it aside (a rename:
 * of two starts that found it, one moves it) and checking what was moved: a lock another start published in the
 * meantime is put back, and this start is refused. The one race left: a third start that finds no file in the
 * instant between that move and the putting back; the life it takes the file from finds out before its next bar
 * ({@link RunLock.lost}) and ends.
 */
function fileLock(dir: string, steps: LockFileSteps): RunLock {
  const path = join(dir, 'run.lock');
  const own = ownFile(path);
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        steps.linkSync(own, path);
        return {
          name: path,
          release: async () => {
            if (filePid(path) === process.pid) unlinkSync(path);
          },
          lost: () => {
            let pid = filePid(path);
            if (pid === undefined && !existsSync(path)) {
              // Removed (by hand): published again, whole, unless a start took its place meanwhile.
              linkUnlessTaken(steps, ownFile(path), path);
              pid = filePid(path);
            }
            return pid === process.pid ? undefined : pid === undefined ? {} : { pid };
          },
        };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const pid = filePid(path);
      if (attempt > 0 || (pid !== undefined && alive(pid))) throw locked(dir, pid);
      takeOverStale(dir, path, own, steps);
    }
  } finally {
    unlinkSync(own);
  }
}

/** Links `file` to `path` unless a file is there already (a start took it), and removes `file` either way. */
function linkUnlessTaken(steps: LockFileSteps, file: string, path: string): void {
  try {
    steps.linkSync(file, path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  } finally {
    unlinkSync(file);
  }
}

/** A new file of this process's own beside the lock file `path`, holding its process id (to be linked to `path`). */
function ownFile(path: string): string {
  const own = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(own, `${process.pid}\n`, { flag: 'wx' });
  return own;
}

/** Moves the stale `path` aside and removes it; puts back (and refuses) a live lock that replaced it meanwhile. */
function takeOverStale(dir: string, path: string, own: string, steps: LockFileSteps): void {
  const aside = `${own}.stale`;
  try {
    steps.renameSync(path, aside);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return; // another start moved it first: try again
    throw e;
  }
  const moved = filePid(aside);
  if (moved !== undefined && alive(moved)) {
    // A start published its lock between this one's look and its move: that lock stands (unless a third start
    // published one in the instant it was away: the race left).
    linkUnlessTaken(steps, aside, path);
    throw locked(dir, moved);
  }
  unlinkSync(aside);
}

function filePid(path: string): number | undefined {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function locked(dir: string, pid: number | undefined): RunLockError {
  const who = pid === undefined ? 'another process' : pid === process.pid ? `this process (pid ${pid})` : `process ${pid}`;
  return new RunLockError('run_locked', `run folder ${dir} is in use by ${who}: one life of a run at a time (stop it with tm live stop --dir ${dir}, or wait for it to end)`, { dir, ...(pid !== undefined ? { pid } : {}) });
}
