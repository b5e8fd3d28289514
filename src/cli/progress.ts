import cliProgress from 'cli-progress';

/** A progress bar on stderr (only drawn on a terminal, so logs and tests stay clean). */
export interface Progress {
  update(done: number, label?: string): void;
  stop(): void;
}

/** Creates a progress bar for `total` units of `what` (e.g. "files", "bars"). */
export function createProgress(total: number, what: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    { stream, format: `{bar} {value}/{total} ${what} | {eta_formatted} left | {label}`, hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { label: '' });
  return {
    update: (done, label = '') => bar.update(done, { label }),
    stop: () => bar.stop(),
  };
}
