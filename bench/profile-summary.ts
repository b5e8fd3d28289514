/**
 * Where a V8 CPU profile's time went, as text: self time by area (source folder, node internals, the collector), by
 * function, and by source line inside the hottest functions; and where a sampling heap profile's bytes were allocated,
 * by area and by function. The summaries `npm run bench:profile` prints; pure (the caller reads the profile and the
 * source files).
 */

/** The parts of a V8 `.cpuprofile` (inspector `Profiler.stop`) this summary reads. */
export interface CpuProfile {
  readonly nodes: readonly {
    readonly id: number;
    readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
    readonly hitCount?: number;
    readonly positionTicks?: readonly { readonly line: number; readonly ticks: number }[];
  }[];
  /** Microseconds. */
  readonly startTime: number;
  readonly endTime: number;
  /** Node id of each sample, in time order. */
  readonly samples: readonly number[];
  /** Microseconds from the previous sample (the first: from startTime). */
  readonly timeDeltas: readonly number[];
}

/** Self time of one function (all its profile nodes: every call path). */
export interface FunctionTime {
  readonly name: string;
  /** Script path relative to the repository (`dist-bench/` removed), a `node:` id, or '' for the VM's own entries. */
  readonly file: string;
  /** 1-based line of the function's start. */
  readonly line: number;
  readonly ms: number;
  readonly share: number;
  /** Self time per 1-based line of its script, hottest first. */
  readonly lines: readonly { readonly line: number; readonly ms: number; readonly share: number }[];
}

export interface ProfileSummary {
  /** Sampled time, ms. */
  readonly totalMs: number;
  readonly samples: number;
  /** Self time per area, hottest first: a repository folder (`src/backtest`), `node_modules/<package>`, `node`, or a VM entry (`(garbage collector)`, `(program)`, `(idle)`). */
  readonly areas: readonly { readonly area: string; readonly ms: number; readonly share: number }[];
  readonly functions: readonly FunctionTime[];
}

/**
 * A profile's script URL as a path relative to the repository `root` (its file URL), with the `dist-bench/` and
 * `dist/` build folders cut so compiled files name their source folder; other URLs (`node:fs`, '') as they are.
 */
function fileOf(url: string, root: string): string {
  const prefix = root.endsWith('/') ? root : `${root}/`;
  let f = url.startsWith(prefix) ? url.slice(prefix.length) : url.startsWith('file://') ? url.slice('file://'.length) : url;
  for (const build of ['dist-bench/', 'dist/']) if (f.startsWith(build)) f = f.slice(build.length);
  return f;
}

/** The area of a function: its repository folder (two levels), `node_modules/<package>`, `node`, or a VM entry. */
function areaOf(name: string, url: string, file: string): string {
  if (url === '') return name.startsWith('(') ? name : '(native)';
  if (url.startsWith('node:')) return 'node';
  const nm = file.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const parts = file.slice(nm + 'node_modules/'.length).split('/');
    return `node_modules/${parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]}`;
  }
  if (file === url) return 'other';
  const parts = file.split('/');
  return parts.length > 2 ? `${parts[0]}/${parts[1]}` : parts.length === 2 ? parts[0]! : file;
}

/**
 * Summarizes `profile`. Each sample lasts until the next one (the last: until `endTime`). `root` is the repository
 * folder as it appears in the profile's file URLs (`file:///…/trade-matrix`), cut from file names; `dist-bench/` and
 * `dist/` prefixes are cut too, so compiled files name their source folder.
 */
export function summarizeProfile(profile: CpuProfile, root: string): ProfileSummary {
  const { samples, timeDeltas } = profile;
  const selfUs = new Map<number, number>();
  let t = profile.startTime;
  for (let k = 0; k < samples.length; k++) {
    t += timeDeltas[k]!;
    const next = k + 1 < samples.length ? t + timeDeltas[k + 1]! : profile.endTime;
    selfUs.set(samples[k]!, (selfUs.get(samples[k]!) ?? 0) + Math.max(0, next - t));
  }
  const totalUs = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const share = (us: number) => (totalUs > 0 ? us / totalUs : 0);
  const areas = new Map<string, number>();
  const functions = new Map<string, { name: string; file: string; line: number; us: number; lines: Map<number, number> }>();
  for (const node of profile.nodes) {
    const us = selfUs.get(node.id) ?? 0;
    if (us === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const name = functionName || '(anonymous)';
    const file = fileOf(url, root);
    const area = areaOf(name, url, file);
    areas.set(area, (areas.get(area) ?? 0) + us);
    const key = `${name}\u0000${url}\u0000${lineNumber}`;
    let f = functions.get(key);
    if (f === undefined) functions.set(key, (f = { name, file, line: lineNumber + 1, us: 0, lines: new Map() }));
    f.us += us;
    // A node's self time spread over its lines in proportion to their ticks.
    const ticks = node.positionTicks ?? [];
    const hits = ticks.reduce((a, p) => a + p.ticks, 0);
    for (const p of ticks) f.lines.set(p.line, (f.lines.get(p.line) ?? 0) + (us * p.ticks) / hits);
  }
  const byTime = <T extends { ms: number }>(a: T, b: T) => b.ms - a.ms;
  return {
    totalMs: totalUs / 1000,
    samples: samples.length,
    areas: [...areas].map(([area, us]) => ({ area, ms: us / 1000, share: share(us) })).sort(byTime),
    functions: [...functions.values()]
      .map((f) => ({
        name: f.name,
        file: f.file,
        line: f.line,
        ms: f.us / 1000,
        share: share(f.us),
        lines: [...f.lines].map(([line, us]) => ({ line, ms: us / 1000, share: share(us) })).sort(byTime),
      }))
      .sort(byTime),
  };
}

/**
 * The summary as text: areas, the `top` functions by self time, and the `lines` hottest lines of the first `detail`
 * of them with their text (`source(file)` gives a script's lines, or undefined). V8 reports the lines of code inlined
 * into a function at that function, numbered in the inlined function's own script: a line above the function's start
 * is shown as inlined, without text; a line below it may be one too.
 */
export function formatProfileSummary(
  s: ProfileSummary,
  options: { readonly top?: number; readonly detail?: number; readonly lines?: number; readonly source?: (file: string) => readonly string[] | undefined } = {},
): string {
  const { top = 25, detail = 5, lines = 8, source } = options;
  const pct = (x: number) => `${(100 * x).toFixed(1).padStart(5)}%`;
  const ms = (x: number) => `${x.toFixed(1).padStart(8)} ms`;
  const out: string[] = [`sampled ${s.totalMs.toFixed(1)} ms in ${s.samples} samples`, '', 'self time by area:'];
  for (const a of s.areas) out.push(`${pct(a.share)} ${ms(a.ms)}  ${a.area}`);
  out.push('', `self time by function (top ${Math.min(top, s.functions.length)} of ${s.functions.length}):`);
  for (const f of s.functions.slice(0, top)) out.push(`${pct(f.share)} ${ms(f.ms)}  ${f.name}  ${f.file === '' ? '' : `${f.file}:${f.line}`}`);
  for (const f of s.functions.filter((x) => x.file !== '' && x.lines.length > 0).slice(0, detail)) {
    out.push('', `hottest lines of ${f.name} (${f.file}:${f.line}):`);
    const text = source?.(f.file);
    for (const l of f.lines.slice(0, lines)) {
      const shown = l.line < f.line ? '(inlined code)' : (text?.[l.line - 1]?.trim().slice(0, 100) ?? '');
      out.push(`${pct(l.share)} ${ms(l.ms)}  :${l.line}  ${shown}`);
    }
  }
  return out.join('\n');
}

/** The parts of a V8 sampling heap profile (inspector `HeapProfiler.stopSampling`) this summary reads. */
export interface HeapProfileNode {
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  /** Bytes allocated by this function on this call path (the sampler's estimate). */
  readonly selfSize: number;
  readonly children: readonly HeapProfileNode[];
}

/** Bytes one function allocated (all its call paths). */
export interface FunctionBytes {
  readonly name: string;
  readonly file: string;
  /** 1-based line of the function's start (a heap profile has no lines inside functions). */
  readonly line: number;
  readonly bytes: number;
  readonly share: number;
}

export interface HeapSummary {
  readonly totalBytes: number;
  readonly areas: readonly { readonly area: string; readonly bytes: number; readonly share: number }[];
  readonly functions: readonly FunctionBytes[];
}

/**
 * Where a sampling heap profile's allocations were made: bytes by area and by function, summed over every call path
 * (`root` as in {@link summarizeProfile}). Code V8 inlined allocates in the function it was inlined into.
 */
export function summarizeHeapProfile(head: HeapProfileNode, root: string): HeapSummary {
  const areas = new Map<string, number>();
  const functions = new Map<string, { name: string; file: string; line: number; bytes: number }>();
  let total = 0;
  const stack: HeapProfileNode[] = [head];
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    stack.push(...node.children);
    if (node.selfSize === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const name = functionName || '(anonymous)';
    const file = fileOf(url, root);
    const area = areaOf(name, url, file);
    areas.set(area, (areas.get(area) ?? 0) + node.selfSize);
    const key = `${name}\u0000${url}\u0000${lineNumber}`;
    let f = functions.get(key);
    if (f === undefined) functions.set(key, (f = { name, file, line: lineNumber + 1, bytes: 0 }));
    f.bytes += node.selfSize;
    total += node.selfSize;
  }
  const share = (b: number) => (total > 0 ? b / total : 0);
  const byBytes = <T extends { bytes: number }>(a: T, b: T) => b.bytes - a.bytes;
  return {
    totalBytes: total,
    areas: [...areas].map(([area, bytes]) => ({ area, bytes, share: share(bytes) })).sort(byBytes),
    functions: [...functions.values()].map((f) => ({ ...f, share: share(f.bytes) })).sort(byBytes),
  };
}

/**
 * The heap summary as text: bytes per run, and per `per.unit` (an order, a bar event) when given, by area and for the
 * `top` functions. `runs`: the backtests the profile sampled.
 */
export function formatHeapSummary(s: HeapSummary, options: { readonly runs: number; readonly per?: { readonly unit: string; readonly count: number }; readonly top?: number }): string {
  const { runs, per, top = 25 } = options;
  const pct = (x: number) => `${(100 * x).toFixed(1).padStart(5)}%`;
  const kb = (bytes: number) => `${(bytes / runs / 1024).toFixed(1).padStart(9)} KiB/run`;
  const each = (bytes: number) => (per === undefined || per.count === 0 ? '' : ` ${(bytes / runs / per.count).toFixed(1).padStart(8)} B/${per.unit}`);
  const out: string[] = [`allocated ${(s.totalBytes / runs / 1024 / 1024).toFixed(2)} MiB per run${per === undefined || per.count === 0 ? '' : ` (${(s.totalBytes / runs / per.count).toFixed(0)} B per ${per.unit}, ${per.count} ${per.unit}s a run)`}, sampled over ${runs} run${runs === 1 ? '' : 's'}`, '', 'allocated by area:'];
  for (const a of s.areas) out.push(`${pct(a.share)} ${kb(a.bytes)}${each(a.bytes)}  ${a.area}`);
  out.push('', `allocated by function (top ${Math.min(top, s.functions.length)} of ${s.functions.length}):`);
  for (const f of s.functions.slice(0, top)) out.push(`${pct(f.share)} ${kb(f.bytes)}${each(f.bytes)}  ${f.name}  ${f.file === '' || f.file.startsWith('node:') || f.line <= 0 ? f.file : `${f.file}:${f.line}`}`);
  return out.join('\n');
}
