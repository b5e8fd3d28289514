/**
 * Runs Debian's `promtool` (installed by `bash scripts/services.sh install` with the `prometheus` package).
 * A missing binary is an error that says how to install it, never a skip.
 */
import { spawnSync } from 'node:child_process';

export interface PromtoolRun {
  readonly status: number;
  /** stdout + stderr (promtool writes lint findings to stderr). */
  readonly output: string;
}

export const PROMTOOL = process.env['TM_PROMTOOL'] ?? 'promtool';

export function promtool(args: readonly string[], input?: string, cwd?: string): PromtoolRun {
  const run = spawnSync(PROMTOOL, args, { input, encoding: 'utf8', cwd, timeout: 60_000 });
  if (run.error) throw new Error(`cannot run ${PROMTOOL} ${args.join(' ')}: ${run.error.message}; install it with 'bash scripts/services.sh install' (Debian package prometheus)`);
  return { status: run.status ?? -1, output: `${run.stdout}${run.stderr}` };
}
