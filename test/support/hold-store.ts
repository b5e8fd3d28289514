/**
 * Child-process helper for lock tests: opens the store at argv[2] (read-only when argv[3] is `ro`), prints
 * `held <pid>` on stdout, keeps the store open until its stdin closes, then closes it and exits 0.
 * Run with `node --import tsx test/support/hold-store.ts <db> ro|rw`.
 */
import { MarketStore } from '../../src/data/index.js';

const [db, mode] = process.argv.slice(2);
const store = await MarketStore.open(db!, { readOnly: mode === 'ro' });
process.stdout.write(`held ${process.pid}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
  store.close();
  process.exit(0);
});
