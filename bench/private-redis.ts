import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { freePort } from '../scripts/free-port.js';

/** A redis-server of the bench's own (no persistence, on a free port): its INFO and MEMORY figures are the bench's alone. */
export interface PrivateRedis {
  readonly url: string;
  /** Shuts the server down (nosave) and waits for its exit. */
  stop(): Promise<void>;
}

/** Starts a redis-server on a free port of 127.0.0.1 with its files in `dir`; resolves once it answers PING. */
export async function startPrivateRedis(dir: string): Promise<PrivateRedis> {
  const port = await freePort();
  const redis: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  const stop = async () => {
    spawnSync('redis-cli', ['-p', String(port), 'shutdown', 'nosave']);
    if (redis.exitCode === null) await new Promise((r) => redis.once('exit', r));
  };
  for (let i = 0; spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout.trim() !== 'PONG'; i++) {
    if (i > 100) {
      await stop();
      throw new Error(`bench: redis-server did not start on port ${port}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url: `redis://127.0.0.1:${port}`, stop };
}
