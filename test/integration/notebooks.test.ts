/**
 * The notebook runner (scripts/run-notebooks.ts, `npm run notebooks`) on the real tslab kernel:
 * the smoke notebook passes and its executed copy holds the computed values; a throwing cell fails the run; what
 * notebooks write to their temporary folder goes under a private TMPDIR, removed after a run that passed and kept
 * (and named) after one that failed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSX = join(ROOT, 'node_modules/.bin/tsx');

function runNotebooks(args: readonly string[], env: NodeJS.ProcessEnv = process.env): { status: number | null; output: string } {
  const result = spawnSync(TSX, ['scripts/run-notebooks.ts', ...args], { cwd: ROOT, encoding: 'utf8', env, timeout: 300_000 });
  return { status: result.status, output: `${result.stdout}\n${result.stderr}` };
}

interface NotebookOutput {
  readonly output_type: string;
  readonly text?: string | string[];
  readonly data?: Record<string, string | string[]>;
}
interface Notebook {
  readonly cells: readonly { readonly cell_type: string; readonly execution_count?: number | null; readonly outputs?: readonly NotebookOutput[] }[];
}

const join1 = (text: string | string[] | undefined): string => (Array.isArray(text) ? text.join('') : (text ?? ''));
const cell = (id: string, source: string) => ({ cell_type: 'code', id, metadata: {}, execution_count: null, outputs: [], source });
/** A notebook of `cells` (sources) on the tslab kernel, written to `dir/name`; returns its path. */
function notebookFile(dir: string, name: string, cells: readonly string[]): string {
  const notebook = {
    cells: cells.map((source, k) => cell(String.fromCharCode(97 + k), source)),
    metadata: { kernelspec: { display_name: 'TypeScript', language: 'typescript', name: 'tslab' } },
    nbformat: 4,
    nbformat_minor: 5,
  };
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(notebook));
  return path;
}
/** A cell that writes a file into the kernel's temporary folder and prints that folder. */
const WRITES_TMP = "import { writeFileSync } from 'node:fs';\nimport { tmpdir } from 'node:os';\nimport { join } from 'node:path';\nwriteFileSync(join(tmpdir(), 'left-by-notebook.txt'), 'x');\nconsole.log(`tmp=${tmpdir()}`);";

describe('notebook runner', () => {
  it('executes 00-smoke on the tslab kernel and records its outputs', { timeout: 300_000 }, () => {
    const out = mkdtempSync(join(tmpdir(), 'tm-notebooks-'));
    const { status, output } = runNotebooks(['--output-dir', out, 'notebooks/00-smoke.ipynb']);
    expect(output).toContain('notebooks: 1 passed, 0 failed');
    expect(status).toBe(0);

    const executed = JSON.parse(readFileSync(join(out, '00-smoke.ipynb'), 'utf8')) as Notebook;
    const outputs = executed.cells.filter((c) => c.cell_type === 'code').flatMap((c) => c.outputs ?? []);
    const stdout = outputs.filter((o) => o.output_type === 'stream').map((o) => join1(o.text)).join('');
    expect(stdout).toContain('timeframeMs(4h) = 14400000');
    expect(stdout).toContain('4h bars per day = 6');
    const html = outputs.filter((o) => o.output_type === 'display_data').map((o) => join1(o.data?.['text/html'])).join('');
    expect(html).toContain('<td>4h</td><td>14400000</td>');
    expect(html).toContain('<td>1d</td><td>86400000</td>');
    expect(outputs.some((o) => o.output_type === 'error')).toBe(false);
    // Execution counts are kept in the executed copy (tslab reports none on iopub; the runner numbers the cells).
    const counts = executed.cells.filter((c) => c.cell_type === 'code').map((c) => c.execution_count);
    expect(counts).toEqual(counts.map((_, i) => i + 1));
  });

  it('exits non-zero and prints the failing cell when a cell throws; keeps and names what the notebook wrote to its temporary folder', { timeout: 300_000 }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'tm-notebooks-bad-'));
    const path = notebookFile(dir, 'throws.ipynb', [WRITES_TMP, "throw new Error('cell-failure-7f3a');", "console.log('never');"]);
    const { status, output } = runNotebooks(['--no-build', '--output-dir', join(dir, 'executed'), path]);
    expect(status).toBe(1);
    expect(output).toContain('FAIL  throws.ipynb');
    expect(output).toContain("throw new Error('cell-failure-7f3a');");
    expect(output).toContain('Error: cell-failure-7f3a');
    expect(output).toContain('notebooks: 0 passed, 1 failed');
    const kept = /what the notebooks wrote to their temporary folder is kept in (\S+)/.exec(output)?.[1];
    expect(kept?.startsWith(join(tmpdir(), 'tm-notebooks-tmp-'))).toBe(true);
    expect(readFileSync(join(kept!, 'left-by-notebook.txt'), 'utf8')).toBe('x');
    rmSync(kept!, { recursive: true, force: true });
  });

  it('runs the kernels under a private TMPDIR and removes it, with what they wrote there, after a run that passed', { timeout: 300_000 }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'tm-notebooks-tmp-test-'));
    const outer = mkdtempSync(join(tmpdir(), 'tm-notebooks-outer-'));
    const path = notebookFile(dir, 'writes.ipynb', [WRITES_TMP]);
    const { status, output } = runNotebooks(['--no-build', '--output-dir', join(dir, 'executed'), path], { ...process.env, TMPDIR: outer });
    expect(output).toContain('notebooks: 1 passed, 0 failed');
    expect(status).toBe(0);
    const executed = JSON.parse(readFileSync(join(dir, 'executed', 'writes.ipynb'), 'utf8')) as Notebook;
    const printed = executed.cells.flatMap((c) => c.outputs ?? []).map((o) => join1(o.text)).join('');
    const used = /tmp=(\S+)/.exec(printed)?.[1];
    expect(used?.startsWith(join(outer, 'tm-notebooks-tmp-'))).toBe(true);
    expect(existsSync(used!)).toBe(false);
    expect(readdirSync(outer).filter((e) => !e.startsWith('tsx-'))).toEqual([]); // tsx (which runs the runner) keeps its cache there
    rmSync(outer, { recursive: true, force: true });
  });
});
