/**
 * A child process of the trial pool (src/cli/sweep-pool.ts): opens the market store READ_ONLY (argv[2]) on its first
 * job, runs each job it is sent with the sweep job function, and replies with the result or the error message.
 * It exits when its parent goes (IPC channel closed), so a worker killed with SIGKILL leaves no orphan running.
 */
import { MarketStore } from '../data/index.js';
import { runTrial } from './sweep-job.js';
import type { ChildReply, ChildRequest } from './sweep-pool.js';

const dbPath = process.argv[2]!;
let store: Promise<MarketStore> | undefined;

process.on('disconnect', () => process.exit(0));
process.on('message', (request: ChildRequest) => {
  void (async () => {
    let reply: ChildReply;
    try {
      store ??= MarketStore.open(dbPath, { readOnly: true });
      const t0 = performance.now();
      const result = await runTrial(request.job, await store);
      reply = { id: request.id, ok: true, result, ms: performance.now() - t0 };
    } catch (e) {
      reply = { id: request.id, ok: false, error: e instanceof Error ? e.message : String(e) };
    }
    if (process.connected) process.send!(reply);
  })();
});
