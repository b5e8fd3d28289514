/** Runner Ops: process, event loop, memory, Redis state store, warm-up, reconciliation, venue, journal, feed. */
import type { DashboardSpec } from './build.js';

const J = '{job=~"trade-matrix-.*"}';

export const runnerOps: DashboardSpec = {
  uid: 'trade-matrix-runner-ops',
  title: 'trade-matrix / Runner Ops',
  description: 'Health of the runner process: scrape status, readiness, event loop, memory, state store, warm-up, reconciliation, venue and journal.',
  tags: ['trade-matrix', 'operations'],
  variables: [],
  rows: [
    {
      row: 'Process',
      panels: [
        { title: 'Targets up', type: 'stat', mappings: { '0': { text: 'DOWN', color: 'red' }, '1': { text: 'up', color: 'green' } }, queries: [{ expr: `up${J}`, legend: '{{instance}}' }] },
        { title: 'Ready (/readyz)', type: 'stat', mappings: { '0': { text: 'NOT READY', color: 'orange' }, '1': { text: 'ready', color: 'green' } }, queries: [{ expr: 'trade_matrix_runner_ready' }] },
        { title: 'Uptime', type: 'stat', unit: 's', queries: [{ expr: 'time() - trade_matrix_runner_start_timestamp_seconds' }] },
        { title: 'Heartbeat age', type: 'stat', unit: 's', thresholds: [{ value: null, color: 'green' }, { value: 60, color: 'red' }], queries: [{ expr: 'time() - trade_matrix_runner_heartbeat_timestamp_seconds' }] },
        { title: 'Runner', type: 'table', width: 8, queries: [{ expr: 'trade_matrix_runner_info' }, { expr: 'nodejs_version_info' }] },
        { title: 'CPU', type: 'timeseries', unit: 'percentunit', queries: [{ expr: `rate(process_cpu_seconds_total${J}[5m])`, legend: '{{instance}}' }] },
        { title: 'Memory', type: 'timeseries', unit: 'bytes', queries: [{ expr: `process_resident_memory_bytes${J}`, legend: 'resident' }, { expr: `nodejs_heap_size_used_bytes${J}`, legend: 'heap used' }, { expr: `nodejs_heap_size_total_bytes${J}`, legend: 'heap total' }] },
        { title: 'Event loop lag p50 / p99', type: 'timeseries', unit: 's', queries: [{ expr: `nodejs_eventloop_lag_p50_seconds${J}`, legend: 'p50' }, { expr: `nodejs_eventloop_lag_p99_seconds${J}`, legend: 'p99' }] },
        { title: 'GC time', type: 'timeseries', unit: 's', queries: [{ expr: `sum by (kind) (rate(nodejs_gc_duration_seconds_sum${J}[5m]))`, legend: '{{kind}}' }] },
        { title: 'Handles and file descriptors', type: 'timeseries', unit: 'short', queries: [{ expr: `nodejs_active_handles_total${J}`, legend: 'active handles' }, { expr: `process_open_fds${J}`, legend: 'open fds' }] },
      ],
    },
    {
      row: 'State store (Redis) and journal',
      panels: [
        { title: 'State store p99 by operation', type: 'timeseries', unit: 's', queries: [{ expr: 'histogram_quantile(0.99, sum by (le, operation) (rate(trade_matrix_state_store_operation_duration_seconds_bucket[5m])))', legend: '{{operation}}' }] },
        { title: 'State store errors', type: 'timeseries', unit: 'ops', queries: [{ expr: 'sum by (operation) (rate(trade_matrix_state_store_errors_total[5m]))', legend: '{{operation}}' }] },
        { title: 'Journal size', type: 'stat', unit: 'bytes', width: 6, queries: [{ expr: 'trade_matrix_journal_size_bytes' }] },
        { title: 'Journal write rate', type: 'timeseries', unit: 'Bps', width: 9, queries: [{ expr: 'rate(trade_matrix_journal_written_bytes_total[5m])', legend: 'bytes/s' }] },
        { title: 'Journal entries by kind', type: 'timeseries', unit: 'ops', width: 9, queries: [{ expr: 'sum by (kind) (rate(trade_matrix_journal_entries_total[5m]))', legend: '{{kind}}' }] },
      ],
    },
    {
      row: 'Warm-up and reconciliation',
      panels: [
        { title: 'Warm-up tier', type: 'table', width: 6, queries: [{ expr: 'trade_matrix_warmup_tier == 1' }] },
        { title: 'Warm-up duration', type: 'stat', unit: 's', width: 6, queries: [{ expr: 'trade_matrix_warmup_duration_seconds' }] },
        { title: 'Warm-up bars by instrument', type: 'bargauge', width: 12, queries: [{ expr: 'trade_matrix_warmup_bars', legend: '{{instrument}}', instant: true }] },
        { title: 'Last reconciliation', type: 'stat', unit: 's', width: 6, queries: [{ expr: 'time() - trade_matrix_last_reconciliation_timestamp_seconds' }] },
        { title: 'Reconciliations by status', type: 'timeseries', unit: 'short', width: 6, queries: [{ expr: 'sum by (status) (increase(trade_matrix_reconciliation_runs_total[1h]))', legend: '{{status}}' }] },
        { title: 'Reconciliation differences by kind', type: 'timeseries', unit: 'short', queries: [{ expr: 'sum by (instrument, kind) (increase(trade_matrix_reconciliation_differences_total[1h]))', legend: '{{instrument}} {{kind}}' }] },
        { title: 'Reconciliation duration p95', type: 'timeseries', unit: 's', width: 24, queries: [{ expr: 'histogram_quantile(0.95, sum by (le) (rate(trade_matrix_reconciliation_duration_seconds_bucket[1h])))', legend: 'p95' }] },
      ],
    },
    {
      row: 'Venue and data feed',
      panels: [
        { title: 'Venue requests by status', type: 'timeseries', unit: 'reqps', queries: [{ expr: 'sum by (endpoint, status) (rate(trade_matrix_venue_requests_total[5m]))', legend: '{{endpoint}} {{status}}' }] },
        { title: 'Venue request p99', type: 'timeseries', unit: 's', queries: [{ expr: 'histogram_quantile(0.99, sum by (le, endpoint) (rate(trade_matrix_venue_request_duration_seconds_bucket[5m])))', legend: '{{endpoint}}' }] },
        { title: 'Venue errors by code', type: 'timeseries', unit: 'ops', queries: [{ expr: 'sum by (code) (rate(trade_matrix_venue_errors_total[5m]))', legend: '{{code}}' }] },
        { title: 'Rate-limit waits', type: 'timeseries', unit: 's', queries: [{ expr: 'sum by (endpoint) (rate(trade_matrix_rate_limit_wait_seconds_total[5m]))', legend: 'waiting {{endpoint}}' }, { expr: 'sum by (endpoint) (rate(trade_matrix_rate_limit_waits_total[5m]))', legend: 'waits/s {{endpoint}}' }] },
        { title: 'Feed messages and reconnects', type: 'timeseries', unit: 'ops', queries: [{ expr: 'sum by (feed) (rate(trade_matrix_feed_messages_total[5m]))', legend: 'messages {{feed}}' }, { expr: 'sum by (feed) (increase(trade_matrix_feed_reconnects_total[1h]))', legend: 'reconnects/h {{feed}}' }] },
        { title: 'Stale inputs', type: 'timeseries', unit: 'short', queries: [{ expr: 'trade_matrix_stale_inputs', legend: '{{input}}' }, { expr: 'sum by (input) (increase(trade_matrix_stale_input_events_total[1h]))', legend: 'went stale/h {{input}}' }] },
        { title: 'Time since last bar (in bar periods)', type: 'bargauge', thresholds: [{ value: null, color: 'green' }, { value: 2, color: 'red' }], queries: [{ expr: '(time() - trade_matrix_last_bar_close_timestamp_seconds) / trade_matrix_bar_interval_seconds', legend: '{{instrument}}', instant: true }] },
      ],
    },
  ],
};
