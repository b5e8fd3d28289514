import { main } from '../../src/cli/main.js';
import type { CliIo } from '../../src/cli/output.js';
import { MarketStore } from '../../src/data/index.js';

/** A CliIo that keeps every write. */
export function captureIo(): CliIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (t) => void stdout.push(t), err: (t) => void stderr.push(t) };
}

/** Runs `tm <args>` in-process and returns its exit code and output (writes joined by newlines). */
export async function tm(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = captureIo();
  const code = await main(['node', 'tm', ...args], io);
  return { code, out: io.stdout.join('\n'), err: io.stderr.join('\n') };
}

/** Opens the store file, runs `fn`, and always closes it. */
export async function withStoreAt<T>(file: string, fn: (store: MarketStore) => Promise<T>): Promise<T> {
  const store = await MarketStore.open(file);
  try {
    return await fn(store);
  } finally {
    store.close();
  }
}
