/** Types of bin/build-state.js (plain JavaScript run by bin/tm.js before anything is compiled). */
export declare const COMPILED_MAIN: string;
export declare function buildState(root: string): { built: boolean; stale: string | null; main: string };
