/**
 * The profile summary of `npm run bench:profile` (bench/profile-summary.ts), on a hand-made V8 CPU profile: every
 * figure below is computed by hand from its samples.
 */
import { describe, expect, it } from 'vitest';
import { formatHeapSummary, formatProfileSummary, summarizeHeapProfile, summarizeProfile, type CpuProfile, type HeapProfileNode } from '../bench/profile-summary.js';

const ROOT = 'file:///repo';
const frame = (functionName: string, url: string, lineNumber: number) => ({ functionName, url, lineNumber });

/**
 * Node 1 is the root. Samples (µs after start 0): node 2 at 100, 3 at 300, 2 at 400, 4 at 1000, 5 at 1100, 6 at
 * 1300, 7 at 1400, 2 at 1500; end 1600. Each lasts until the next: node 2 200 + 600 + 100 = 900 µs, node 3 100,
 * node 4 100, node 5 200, node 6 100, node 7 100; total 1500 µs (the 100 µs before the first sample is not sampled).
 * Nodes 2 and 8 are one function on two call paths; node 8 has no samples.
 */
const profile: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame('(root)', '', -1) },
    { id: 2, callFrame: frame('phases', `${ROOT}/dist-bench/src/backtest/run-backtest.js`, 234), hitCount: 3, positionTicks: [{ line: 254, ticks: 2 }, { line: 12, ticks: 1 }] },
    { id: 3, callFrame: frame('fill', `${ROOT}/dist-bench/src/backtest/simulated-execution-client.js`, 499), hitCount: 1 },
    { id: 4, callFrame: frame('(garbage collector)', '', -1), hitCount: 1 },
    { id: 5, callFrame: frame('onBar', `${ROOT}/dist-bench/bench/engine-fills.bench.js`, 58), hitCount: 1 },
    { id: 6, callFrame: frame('query', `${ROOT}/node_modules/@duckdb/node-api/lib/x.js`, 9), hitCount: 1 },
    { id: 7, callFrame: frame('readFile', 'node:fs', 100), hitCount: 1 },
    { id: 8, callFrame: frame('phases', `${ROOT}/dist-bench/src/backtest/run-backtest.js`, 234), hitCount: 0 },
  ],
  startTime: 0,
  endTime: 1600,
  samples: [2, 3, 2, 4, 5, 6, 7, 2],
  timeDeltas: [100, 200, 100, 600, 100, 200, 100, 100],
};

describe('bench profile summary', () => {
  const s = summarizeProfile(profile, ROOT);

  it('gives each sample the time until the next one, and sums self time per function over its call paths', () => {
    expect(s.totalMs).toBeCloseTo(1.5, 12);
    expect(s.samples).toBe(8);
    expect(s.functions.map((f) => [f.name, f.file, f.line, Math.round(f.ms * 1000)])).toEqual([
      ['phases', 'src/backtest/run-backtest.js', 235, 900],
      ['onBar', 'bench/engine-fills.bench.js', 59, 200],
      ['fill', 'src/backtest/simulated-execution-client.js', 500, 100],
      ['(garbage collector)', '', 0, 100],
      ['query', 'node_modules/@duckdb/node-api/lib/x.js', 10, 100],
      ['readFile', 'node:fs', 101, 100],
    ]);
    expect(s.functions[0]!.share).toBeCloseTo(0.6, 12);
  });

  it('spreads a function’s self time over its lines by their ticks', () => {
    const phases = s.functions[0]!;
    expect(phases.lines.map((l) => [l.line, Math.round(l.ms * 1000)])).toEqual([
      [254, 600],
      [12, 300],
    ]);
    expect(phases.lines[0]!.share).toBeCloseTo(0.4, 12);
  });

  it('rolls self time up by area: repository folder, package, node, VM entry', () => {
    expect(s.areas.map((a) => [a.area, Math.round(a.ms * 1000)])).toEqual([
      ['src/backtest', 1000],
      ['bench', 200],
      ['(garbage collector)', 100],
      ['node_modules/@duckdb/node-api', 100],
      ['node', 100],
    ]);
  });

  it('prints areas, functions and the hottest lines with their text; a line above the function’s start is inlined code', () => {
    const source = (file: string) => (file === 'src/backtest/run-backtest.js' ? Array.from({ length: 300 }, (_, k) => `line ${k + 1} text`) : undefined);
    const text = formatProfileSummary(s, { top: 2, detail: 1, lines: 5, source });
    expect(text).toContain('sampled 1.5 ms in 8 samples');
    expect(text).toContain(' 66.7%      1.0 ms  src/backtest');
    expect(text).toContain('self time by function (top 2 of 6):');
    expect(text).toContain(' 13.3%      0.2 ms  onBar  bench/engine-fills.bench.js:59');
    expect(text).not.toContain('fill  src/backtest/simulated-execution-client.js');
    expect(text).toContain('hottest lines of phases (src/backtest/run-backtest.js:235):');
    expect(text).toContain(' 40.0%      0.6 ms  :254  line 254 text');
    expect(text).toContain(' 20.0%      0.3 ms  :12  (inlined code)');
  });
});

/**
 * A hand-made sampling heap profile (`HeapProfiler.stopSampling`): `fill` allocates on two call paths (600 + 200 B),
 * `buildResult` 1000 B, an anonymous function 100 B, the native `push` 100 B; the root and `runBacktest` none.
 * Total 2000 B.
 */
const heapNode = (functionName: string, url: string, lineNumber: number, selfSize: number, children: HeapProfileNode[] = []): HeapProfileNode => ({ callFrame: { functionName, url, lineNumber }, selfSize, children });
const FILL_URL = `${ROOT}/dist-bench/src/backtest/simulated-execution-client.js`;
const heapProfile = heapNode('(root)', '', -1, 0, [
  heapNode('runBacktest', `${ROOT}/dist-bench/src/backtest/run-backtest.js`, 36, 0, [
    heapNode('fill', FILL_URL, 687, 600, [heapNode('push', '', -1, 100)]),
    heapNode('buildResult', `${ROOT}/dist-bench/src/backtest/run-backtest.js`, 349, 1000),
    heapNode('processCommands', FILL_URL, 156, 0, [heapNode('fill', FILL_URL, 687, 200)]),
  ]),
  heapNode('', `${ROOT}/dist-bench/bench/engine-fills.bench.js`, 57, 100),
]);

describe('bench heap profile summary', () => {
  const s = summarizeHeapProfile(heapProfile, ROOT);

  it('sums the bytes per function over its call paths, largest first, and per area', () => {
    expect(s.totalBytes).toBe(2000);
    expect(s.functions.map((f) => [f.name, f.file, f.line, f.bytes])).toEqual([
      ['buildResult', 'src/backtest/run-backtest.js', 350, 1000],
      ['fill', 'src/backtest/simulated-execution-client.js', 688, 800],
      ['(anonymous)', 'bench/engine-fills.bench.js', 58, 100],
      ['push', '', 0, 100],
    ]);
    expect(s.functions[1]!.share).toBeCloseTo(0.4, 12);
    expect(s.areas.map((a) => [a.area, a.bytes])).toEqual([
      ['src/backtest', 1800],
      ['bench', 100],
      ['(native)', 100],
    ]);
  });

  it('prints bytes per run and per unit (a fill, a bar event) by area and function', () => {
    const text = formatHeapSummary(s, { runs: 2, per: { unit: 'fill', count: 10 }, top: 2 });
    expect(text).toContain('allocated 0.00 MiB per run (100 B per fill, 10 fills a run), sampled over 2 runs');
    // src/backtest: 1800 B over 2 runs = 900 B a run (0.9 KiB), 90 B a fill.
    expect(text).toContain(' 90.0%       0.9 KiB/run     90.0 B/fill  src/backtest');
    expect(text).toContain('allocated by function (top 2 of 4):');
    expect(text).toContain(' 40.0%       0.4 KiB/run     40.0 B/fill  fill  src/backtest/simulated-execution-client.js:688');
    expect(text).not.toContain('(anonymous)');
    const bare = formatHeapSummary(s, { runs: 1 });
    expect(bare).toContain('allocated 0.00 MiB per run, sampled over 1 run');
    expect(bare).toContain('  5.0%       0.1 KiB/run  push  ');
  });
});
