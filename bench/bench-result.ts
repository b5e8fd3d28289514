/** One benchmark figure, as written to bench/results/<name>.json. */
export interface BenchResult {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly target: number;
  readonly better: 'higher' | 'lower';
  readonly command: string;
  readonly date: string;
  /** Free-form details (samples, machine, inputs). */
  readonly details?: Record<string, unknown>;
}

/** A benchmark module: `bench/<name>.bench.ts` default-exports one of these. */
export interface Benchmark {
  readonly name: string;
  run(): Promise<Omit<BenchResult, 'command' | 'date'> | Omit<BenchResult, 'command' | 'date'>[]>;
}

/** Median of `samples` (sorted copy). */
export function median(samples: readonly number[]): number {
  const s = [...samples].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Percentile `p` in [0, 100] by nearest rank. */
export function percentile(samples: readonly number[], p: number): number {
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/** Whether `r` meets its target. */
export function meetsTarget(r: Pick<BenchResult, 'value' | 'target' | 'better'>): boolean {
  return r.better === 'higher' ? r.value >= r.target : r.value <= r.target;
}
