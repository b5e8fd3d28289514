export { LiveBarFeed, LiveFeedError, type ClosedBarSource, type LiveBar, type LiveBarFeedOptions, type LiveBarSet, type LiveFeedErrorCode } from './bar-feed.js';
export { Journal, JournalError, readJournal, type JournalContents, type JournalErrorCode, type JournalRecord } from './journal.js';
export { JournalingGate } from './journaling-gate.js';
export { LiveClock, PolledPacer, VirtualTime, WallPacer, type Pacer } from './live-clock.js';
export { LiveRunner, type LiveMode, type LiveRunnerConfig, type LiveRunnerDeps, type LiveRunSummary, type LiveStatus, type LiveVenue } from './live-runner.js';
export { LiveSetupError, liveSetup, type LiveSetup, type LiveSetupErrorCode } from './live-setup.js';
export { reconcile, type ReconcileDifference } from './reconcile.js';
export { REPLAY_FILLS, ReplayError, replayJournal, type ReplayDecision, type ReplayDivergence, type ReplayErrorCode, type ReplayFills, type ReplayOptions, type ReplayReport } from './replay.js';
export { RunnerStateError, loadRunnerState, saveRunnerState, type LiveRunnerState, type LostOrder, type RunnerStateErrorCode } from './runner-state.js';
