import { describe, expect, it } from 'vitest';
import { numberExecutedCells } from '../../scripts/notebook-execution-counts.js';

describe('numberExecutedCells', () => {
  it('numbers non-empty code cells 1..n in order, keeps counts the kernel set, and numbers execute_result outputs', () => {
    const nb = {
      cells: [
        { cell_type: 'markdown', source: '# title' },
        { cell_type: 'code', source: ['const a = 1;\n', 'a'], execution_count: null, outputs: [{ output_type: 'execute_result', execution_count: null }] },
        { cell_type: 'code', source: '   ', execution_count: null, outputs: [] },
        { cell_type: 'code', source: 'console.log(2)', execution_count: null, outputs: [{ output_type: 'stream' }] },
        { cell_type: 'code', source: 'x', execution_count: 3, outputs: [] },
      ],
    };
    expect(numberExecutedCells(nb)).toBe(2);
    expect(nb.cells.map((c) => (c as { execution_count?: number | null }).execution_count)).toEqual([undefined, 1, null, 2, 3]);
    expect((nb.cells[1]!.outputs![0] as { execution_count?: number | null }).execution_count).toBe(1);
    expect(numberExecutedCells(nb)).toBe(0);
  });
});
