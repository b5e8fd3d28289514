/** State stores behind the engine's `StateStore` port: Redis for live runners, memory for backtests and tests. */
export { MemoryStateStore } from './memory-state-store.js';
export { RedisStateStore } from './redis-state-store.js';
export { canonicalJson, decodeSnapshot, encodeSnapshot, StateStoreError } from './state-codec.js';
