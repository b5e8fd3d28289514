#!/usr/bin/env bash
# Mutation testing (`npm run mutation [-- GROUP...]`): StrykerJS (stryker.config.mjs) over src/engine, src/backtest,
# src/sizing, src/registry/model-loader.ts, the live runner's reconciliation, journaling gate, warm-up gates, journal, stop actions and run-folder lock (src/live)
# the Bybit execution adapter (client, JSON mappers, keys and the real-money guard: src/adapters/bybit) and the monitoring
# families (src/monitoring: metric facade, backtest export, live runner metrics, /metrics server, settings) and the features
# (src/features: functions, pipeline, spec, labels), one Stryker run per group, each judged by the test files of its own area (TM_MUTATION_TESTS, see vitest.mutation.config.ts). A
# score below 80 % (thresholds.break) fails its group; the script exits non-zero when any group failed. Reports: reports/mutation/<group>.json and <group>.html.
#
# Why groups and not one run over the whole service-free set: Stryker runs a "static" mutant (module-level code) against
# every test of its set. Over the whole set (729 tests, ~60 s) 1832 of 6800 mutants are static, and Stryker estimated
# 7-8 h on two cores (2026-12-01). Area test sets make it minutes; more tests could only kill more mutants, so each
# group's score is a lower bound of the whole-set score.
#
#   npm run mutation                  every group, one after the other
#   npm run mutation -- sizing report one or more groups: engine backtest report metrics sizing model-loader live bybit monitoring features data sweep-aggregate
#   TM_STRYKER_ARGS='--concurrency 1'  extra options for every Stryker run
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

ALL=(engine backtest report metrics sizing model-loader live bybit monitoring features data sweep-aggregate)

# group → files to mutate (Stryker --mutate) and the tests that judge them (TM_MUTATION_TESTS).
mutate_of() {
  case "$1" in
    engine) echo 'src/engine/**/*.ts,!src/engine/**/*.test.ts,!src/engine/**/index.ts' ;;
    backtest) echo 'src/backtest/**/*.ts,!src/backtest/**/*.test.ts,!src/backtest/**/index.ts,!src/backtest/report.ts,!src/backtest/metrics.ts' ;;
    report) echo 'src/backtest/report.ts' ;;
    metrics) echo 'src/backtest/metrics.ts' ;;
    sizing) echo 'src/sizing/**/*.ts,!src/sizing/**/*.test.ts,!src/sizing/**/index.ts' ;;
    model-loader) echo 'src/registry/model-loader.ts' ;;
    live) echo 'src/live/reconcile.ts,src/live/journaling-gate.ts,src/live/warmup-gates.ts,src/live/journal.ts,src/live/shutdown.ts,src/live/run-lock.ts' ;;
    bybit) echo 'src/adapters/bybit/bybit-execution-client.ts,src/adapters/bybit/bybit-execution-parse.ts,src/adapters/bybit/bybit-keys.ts' ;;
    monitoring) echo 'src/monitoring/backtest-metrics.ts,src/monitoring/trading-metrics.ts,src/monitoring/live-metrics.ts,src/monitoring/metrics-server.ts,src/monitoring/metrics-table.ts,src/monitoring/monitoring-config.ts' ;;
    # load-feature-inputs.ts (DuckDB loading) is in the group data, with loadBars and checkStore: judged by hand-made stores' tests.
    features) echo 'src/features/**/*.ts,!src/features/**/*.test.ts,!src/features/**/index.ts,!src/features/load-feature-inputs.ts' ;;
    data) echo 'src/data/load-bars.ts,src/data/check-store.ts,src/features/load-feature-inputs.ts' ;;
    sweep-aggregate) echo 'src/sweep/aggregate.ts,src/sweep/returns-spill.ts,src/training/pbo.ts' ;;
    *) return 1 ;;
  esac
}
tests_of() {
  case "$1" in
    engine) echo 'src/engine/**/*.test.ts' ;;
    backtest) echo '{src/backtest/**/*.test.ts,test/contract/simulated-execution-client.test.ts}' ;;
    report) echo 'src/backtest/report*.test.ts' ;;
    metrics) echo 'src/backtest/{metrics,report,report-output}.test.ts' ;;
    sizing) echo 'src/sizing/**/*.test.ts' ;;
    model-loader) echo 'src/registry/model-loader*.test.ts' ;;
    live) echo 'src/live/{reconcile,journaling-gate,warmup-gates,journal,shutdown,run-lock,run-lock-race}.test.ts' ;;
    # The client's tests run it against the local v5 venue (test/support, in-process): no service needed.
    bybit) echo '{src/adapters/bybit/bybit-execution-*.test.ts,src/adapters/bybit/bybit-keys.test.ts,test/contract/bybit-execution-client.test.ts}' ;;
    # The metric families, the backtest export, the live runner's metrics, the /metrics server and the monitoring settings (promtool: installed by the nightly job).
    monitoring) echo 'src/monitoring/*.test.ts' ;;
    # The synthetic-market and hand-computed tests; not the real-data ones (feature-pipeline, causality: DuckDB over
    # the shared data), which under Stryker's instrumentation made the run about 3 h instead of 21 min.
    features) echo 'src/features/{bar-stream,feature-functions,feature-spec,feature-synthetic,labels,momentum,triple-barrier,usable-points}.test.ts' ;;
    # Hand-made stores in DuckDB in memory, every value written out by hand (no shared data, no service).
    data) echo '{src/data/load-bars,src/data/check-store,src/features/load-feature-inputs}.test.ts' ;;
    # The streamed aggregate (its spill, PBO from block sums) against the matrix oracle; DuckDB in memory only.
    sweep-aggregate) echo '{src/sweep/aggregate,src/sweep/sweep-store,src/training/pbo}.test.ts' ;;
  esac
}

groups=("$@")
((${#groups[@]})) || groups=("${ALL[@]}")
for g in "${groups[@]}"; do
  mutate_of "$g" >/dev/null || { echo "mutation: unknown group '$g' (groups: ${ALL[*]})" >&2; exit 2; }
done

mkdir -p reports/mutation
# Each group runs under a private TMPDIR (Stryker's test processes inherit it), removed after the group and on any exit:
# a mutant that breaks a test's cleanup (e.g. the sweep spill's close, or the finally that deletes it) would otherwise
# leave its files in the OS temp folder, a few hundred per run. Siblings named after it go too: a mutant that empties a
# prefix makes `mkdtemp(join(tmpdir(), ''))`, which creates `<TMPDIR>XXXXXX` beside it, not in it.
run_tmp=''
remove_run_tmp() {
  if [[ -n "$run_tmp" ]]; then rm -rf "$run_tmp" "$run_tmp"?*; fi
  run_tmp=''
}
trap remove_run_tmp EXIT
failed=()
for g in "${groups[@]}"; do
  echo "=== mutation $g: --mutate '$(mutate_of "$g")' judged by TM_MUTATION_TESTS='$(tests_of "$g")'"
  start=$SECONDS
  status=0
  run_tmp="$(mktemp -d "${TMPDIR:-/tmp}/tm-mutation-$g.XXXXXX")"
  # shellcheck disable=SC2086 # TM_STRYKER_ARGS: extra Stryker options, word-split (e.g. '--concurrency 1 --timeoutMS 8000')
  TMPDIR="$run_tmp" TM_MUTATION_TESTS="$(tests_of "$g")" npx stryker run --mutate "$(mutate_of "$g")" ${TM_STRYKER_ARGS:-} || status=$?
  left=$(find "$run_tmp" -mindepth 1 -maxdepth 1 | wc -l)
  beside=$(compgen -G "$run_tmp?*" | wc -l || true) # compgen fails when nothing matches
  left=$((left + beside))
  ((left == 0)) || echo "=== mutation $g: removed $left entries the run left in its private TMPDIR (or beside it)"
  remove_run_tmp
  [[ -f reports/mutation/mutation.json ]] && mv reports/mutation/mutation.json "reports/mutation/$g.json"
  [[ -f reports/mutation/index.html ]] && mv reports/mutation/index.html "reports/mutation/$g.html"
  echo "=== mutation $g: exit $status in $((SECONDS - start)) s"
  ((status == 0)) || failed+=("$g")
done
if ((${#failed[@]})); then
  echo "mutation: failed (below the break threshold, or Stryker could not run): ${failed[*]}" >&2
  exit 1
fi
