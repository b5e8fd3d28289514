/** Runs the `tm` CLI in-process for tests and captures what it prints. */
import { main } from '../../src/cli/main.js';
import type { CliIo } from '../../src/cli/output.js';
import { MarketStore } from '../../src/data/index.js';

export interface TmRun {
  readonly code: number;
  readonly out: string;
  readonly err: string;
  /** stdout and stderr lines together, in print order. */
  readonly text: string;
  /** Wall time of the run, ms. */
  readonly ms: number;
}

/** An io that keeps every line; `text()` joins stdout and stderr in print order. */
export function captureIo(): CliIo & { readonly stdout: string[]; readonly stderr: string[]; text(): string } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const all: string[] = [];
  return {
    stdout,
    stderr,
    out: (t) => void (stdout.push(t), all.push(t)),
    err: (t) => void (stderr.push(t), all.push(t)),
    text: () => all.join('\n'),
  };
}

/** Runs `tm <args>` through `main` (env: `env`, default process.env). */
export async function runTm(args: readonly string[], env?: Readonly<Record<string, string | undefined>>): Promise<TmRun> {
  const io = captureIo();
  const started = performance.now();
  const code = await main(['node', 'tm', ...args], io, env);
  return { code, out: io.stdout.join('\n'), err: io.stderr.join('\n'), text: io.text(), ms: performance.now() - started };
}

/** Runs `tm <args>` in-process and returns its exit code and output (writes joined by newlines). */
export async function tm(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const { code, out, err } = await runTm(args);
  return { code, out, err };
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
