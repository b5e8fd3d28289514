/**
 * The notebook surface of trade-matrix: everything a notebook or script may import.
 * Notebooks import only from here; folders keep their internals private.
 */
export * from './core/index.js';
export * from './data/index.js';
export * from './notebook/index.js';
