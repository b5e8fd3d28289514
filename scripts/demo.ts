/**
 * `npm run demo`: imports the shared market data into the default store when it holds no bars yet
 * (`TM_SHARED_DATA`, default ../shared/data; store `TM_DB`, default data/market.duckdb), runs the default experiment
 * experiments/sma-crossover.json and prints where its HTML report is. Starts no server.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { main } from '../src/cli/main.js';
import { processIo } from '../src/cli/output.js';
import { importPath, MarketStore, resolveStorePath } from '../src/data/index.js';

const CONFIG = 'experiments/sma-crossover.json';
const OUT = 'experiments/results/sma-crossover';

const storePath = resolveStorePath();
const store = await MarketStore.open(storePath);
try {
  const bars = Number((await store.query('SELECT count(*) AS n FROM bar_data'))[0]!['n']);
  if (bars === 0) {
    const shared = resolve(process.env['TM_SHARED_DATA'] ?? '../shared/data');
    if (!existsSync(shared)) {
      console.error(`demo: the store ${storePath} has no bars and the shared data folder ${shared} does not exist; set TM_SHARED_DATA or run \`tm data import <path>\``);
      process.exit(2);
    }
    console.log(`demo: importing ${shared} into ${storePath} ...`);
    const files = await importPath(store, shared);
    console.log(`demo: imported ${files.length} files, ${files.reduce((a, f) => a + f.rows, 0)} rows`);
  } else {
    console.log(`demo: using ${storePath} (${bars} bars stored)`);
  }
} finally {
  store.close();
}

const code = await main(['node', 'tm', 'backtest', '--config', CONFIG, '--out', OUT], processIo);
if (code === 0) console.log(`\ndemo: open the report in a browser: ${resolve(OUT, 'report.html')}`);
process.exitCode = code;
