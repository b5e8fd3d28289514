/** Command-line pieces the bench tools (bench/profile.ts, bench/ab.ts) share. */

/**
 * A failure of a bench tool's command line: prints `<tool>: <message>` and the usage to stderr and exits 2.
 * @example const fail = usageFailure('bench:ab', USAGE);
 */
export function usageFailure(tool: string, usage: string): (message: string) => never {
  return (message) => {
    console.error(`${tool}: ${message}\n${usage}`);
    process.exit(2);
  };
}

/** The whole number ≥ 1 after `flag` in `args`, `fallback` when the flag is absent; anything else fails naming the flag and value. */
export function wholeNumberOption(args: readonly string[], flag: string, fallback: number, fail: (message: string) => never): number {
  const k = args.indexOf(flag);
  if (k < 0) return fallback;
  const text = args[k + 1];
  const value = Number(text);
  if (text === undefined || !Number.isInteger(value) || value < 1) fail(`${flag} needs a whole number >= 1, was ${JSON.stringify(text ?? '')}`);
  return value;
}
