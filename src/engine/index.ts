export { BarHistory } from './bar-history.js';
export { TestClock, type Clock } from './clock.js';
export type { ExecutionClient, ExecutionEvents } from './execution-client.js';
export { EngineError, Kernel, type EngineErrorCode, type FundingEvent, type KernelConfig, type KernelDeps } from './kernel.js';
export { Portfolio } from './portfolio.js';
export type { BarEvent, Strategy, StrategyContext, TickEvent } from './strategy.js';
export { TradeTracker, type RoundTrip } from './trade-tracker.js';
