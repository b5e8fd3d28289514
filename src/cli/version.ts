/** trade-matrix version reported by the CLI and in `trade_matrix_runner_info` (version.test.ts keeps it equal to package.json). */
export const TM_VERSION = '0.1.0';
