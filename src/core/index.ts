export * from './app-error.js';
export * from './result.js';
export * from './time.js';
export * from './instrument.js';
export * from './order.js';
export * from './random.js';
export * from './config-issues.js';
