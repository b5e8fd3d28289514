/**
 * Execution counts for executed notebooks. nbconvert's ExecutePreprocessor takes a cell's count only from the kernel's
 * iopub messages, and tslab sends none (it reports counts in execute_reply only), so executed copies came out with
 * `execution_count: null`. nbconvert runs the code cells top to bottom, once each, so the kernel's own count of a cell
 * is its position among the executed code cells: that is what this writes (to the cell and its execute_result outputs).
 */

interface NotebookCell {
  cell_type: string;
  source?: string | string[];
  execution_count?: number | null;
  outputs?: { output_type: string; execution_count?: number | null }[];
}

/** Numbers the non-empty code cells 1, 2, ... in order where the kernel left the count unset; returns how many it numbered. */
export function numberExecutedCells(notebook: { cells: NotebookCell[] }): number {
  let count = 0;
  let numbered = 0;
  for (const cell of notebook.cells) {
    if (cell.cell_type !== 'code') continue;
    const source = Array.isArray(cell.source) ? cell.source.join('') : (cell.source ?? '');
    if (source.trim() === '') continue;
    count++;
    if (cell.execution_count == null) {
      cell.execution_count = count;
      numbered++;
    }
    for (const output of cell.outputs ?? []) if (output.output_type === 'execute_result' && output.execution_count == null) output.execution_count = cell.execution_count;
  }
  return numbered;
}
