#!/usr/bin/env bash
# Real-service test harness: Redis, S3 (MinIO, or moto as fallback), MLflow tracking server,
# Jupyter + tslab kernel. Everything binds to 127.0.0.1; all state lives under .services/ and .venv/.
#
#   bash scripts/services.sh install   install what is missing (no start)
#   bash scripts/services.sh up        install if missing, start what is not running, wait until healthy
#   bash scripts/services.sh down [NAME...]   stop what `up` started (pidfiles under .services/); NAME = redis minio moto mlflow prometheus
#   bash scripts/services.sh status    one line per service; exit 1 if any is down
#   bash scripts/services.sh env       `export NAME=value` lines for clients (tests, notebooks)
#   bash scripts/services.sh prometheus-up HOST:PORT...   Prometheus on TM_PROMETHEUS_PORT scraping those targets
#                                      (job trade-matrix-runner, docker/prometheus/alert-rules.yml loaded); prometheus-down
#
# Settings (environment, with defaults):
#   TM_REDIS_PORT=16379  TM_MINIO_PORT=19000  TM_MINIO_CONSOLE_PORT=19001  TM_MLFLOW_PORT=15000
#   TM_S3_BUCKET=trade-matrix  MINIO_ROOT_USER=minioadmin  MINIO_ROOT_PASSWORD=minioadmin
#   TM_S3_BACKEND=minio|moto   (unset: MinIO, falling back to moto when MinIO cannot be built)
#   TM_MINIO_MODULE=github.com/minio/minio@<version>   (go install target)
#   TM_MLFLOW_WORKERS=2  TM_SERVICES_WAIT_SECONDS=120
#   TM_PROMETHEUS_PORT=19090  TM_PROMETHEUS_SCRAPE_INTERVAL=15s
#   TM_SERVICES_STATE=<repo>/.services   (pidfiles, logs, data; a second instance on other ports needs its own)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="${TM_SERVICES_STATE:-$ROOT/.services}"
LOGS="$STATE/logs"
VENV="$ROOT/.venv"
REQUIREMENTS="$ROOT/python/requirements-services.txt"
CONSTRAINTS="$ROOT/python/constraints-services.txt"
MOTO_REQUIREMENTS="$ROOT/python/requirements-moto.txt"

REDIS_PORT="${TM_REDIS_PORT:-16379}"
MINIO_PORT="${TM_MINIO_PORT:-19000}"
MINIO_CONSOLE_PORT="${TM_MINIO_CONSOLE_PORT:-19001}"
MLFLOW_PORT="${TM_MLFLOW_PORT:-15000}"
S3_BUCKET="${TM_S3_BUCKET:-trade-matrix}"
S3_USER="${MINIO_ROOT_USER:-minioadmin}"
S3_PASSWORD="${MINIO_ROOT_PASSWORD:-minioadmin}"
# Pinned: the version `go install github.com/minio/minio@latest` resolved to and that was verified to build here.
MINIO_MODULE="${TM_MINIO_MODULE:-github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c}"
MLFLOW_WORKERS="${TM_MLFLOW_WORKERS:-2}"
WAIT_SECONDS="${TM_SERVICES_WAIT_SECONDS:-120}"
PROMETHEUS_PORT="${TM_PROMETHEUS_PORT:-19090}"
PROMETHEUS_SCRAPE_INTERVAL="${TM_PROMETHEUS_SCRAPE_INTERVAL:-15s}"
PROMETHEUS_TARGETS=""
HOST=127.0.0.1

MISSING=()

log() { printf '[services] %s\n' "$*" >&2; }
die() { printf '[services] ERROR: %s\n' "$*" >&2; exit 1; }
now() { date +%s; }
timed() { # timed LABEL CMD...: run CMD, report its duration
  local label="$1" start rc=0
  shift
  start=$(now)
  "$@" || rc=$?
  log "$label: $(( $(now) - start ))s (exit $rc)"
  return "$rc"
}

port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

pid_alive() { # pid_alive .services/NAME/NAME.pid: alive, and its command line names NAME (no reused pid)
  local pid name
  [[ -s "$1" ]] || return 1
  pid="$(cat "$1")"
  name="$(basename "$1" .pid)"
  [[ "$name" == redis ]] && name=redis-server
  [[ "$name" == moto ]] && name=moto_server
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null &&
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$name"
}

wait_for() { # wait_for LABEL SECONDS CMD...: poll CMD until it succeeds
  local label="$1" seconds="$2" deadline
  shift 2
  deadline=$(( $(now) + seconds ))
  until "$@" >/dev/null 2>&1; do
    if (( $(now) >= deadline )); then
      log "$label did not become ready within ${seconds}s"
      return 1
    fi
    sleep 0.5
  done
}

http_ok() { curl -fsS -o /dev/null --max-time 5 "$1"; }

# ---------------------------------------------------------------- MinIO / moto backend choice

minio_bin() { # print the path of a minio binary, if any
  local candidate gobin gopath
  if [[ -n "${TM_MINIO_BIN:-}" && -x "${TM_MINIO_BIN}" ]]; then echo "$TM_MINIO_BIN"; return 0; fi
  if command -v go >/dev/null 2>&1; then
    gobin="$(go env GOBIN 2>/dev/null || true)"
    gopath="$(go env GOPATH 2>/dev/null || true)"
    for candidate in "${gobin:+$gobin/minio}" "${gopath:+${gopath%%:*}/bin/minio}"; do
      [[ -n "$candidate" && -x "$candidate" ]] && { echo "$candidate"; return 0; }
    done
  fi
  for candidate in "$HOME/go/bin/minio" "$(command -v minio 2>/dev/null || true)"; do
    [[ -n "$candidate" && -x "$candidate" ]] && { echo "$candidate"; return 0; }
  done
  return 1
}

s3_backend() { # minio | moto: explicit TM_S3_BACKEND, else what install recorded, else minio
  if [[ -n "${TM_S3_BACKEND:-}" ]]; then echo "$TM_S3_BACKEND"; return; fi
  if [[ -s "$STATE/s3-backend" ]]; then cat "$STATE/s3-backend"; return; fi
  echo minio
}

# ---------------------------------------------------------------- install steps

apt_install() { # apt_install PACKAGE BINARY WHAT-FOR: install a Debian package unless BINARY exists
  local package="$1" binary="$2" purpose="$3"
  if command -v "$binary" >/dev/null 2>&1 || [[ -x "$binary" ]]; then return 0; fi
  if [[ "$(id -u)" != 0 ]] && ! command -v sudo >/dev/null 2>&1; then
    MISSING+=("$package ($purpose): run 'apt-get install -y $package' as root")
    return 1
  fi
  local sudo="" log_file="$LOGS/install-$package.log"
  [[ "$(id -u)" != 0 ]] && sudo="sudo"
  log "installing $package (apt)"
  if ! DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "$package" >"$log_file" 2>&1; then
    log "apt-get install failed; running apt-get update first"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get update -q >>"$log_file" 2>&1 || true
    if ! DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "$package" >>"$log_file" 2>&1; then
      MISSING+=("$package ($purpose): apt-get install failed (see $log_file); install the Debian package $package")
      return 1
    fi
  fi
  command -v "$binary" >/dev/null 2>&1 || [[ -x "$binary" ]]
}

# The Debian package may start the system service on 6379; ours runs on its own port and is unaffected.
install_redis() { apt_install redis-server redis-server "Redis for the state-store tests; or 'docker compose -f docker/docker-compose.yml up redis'"; }
# Headless Chromium for the HTML report test (driven by playwright-core with executablePath /usr/bin/chromium).
install_chromium() { apt_install chromium /usr/bin/chromium "headless browser for the report test"; }
# Prometheus + promtool (same Debian package) for the monitoring tests; Debian's policy-rc.d/no systemd keeps its unit stopped.
install_prometheus() { apt_install prometheus promtool "Prometheus and promtool for the monitoring tests"; }

install_minio() {
  if minio_bin >/dev/null; then return 0; fi
  if ! command -v go >/dev/null 2>&1; then
    log "go toolchain not found; cannot build MinIO"
    return 1
  fi
  log "building MinIO: go install $MINIO_MODULE (several minutes on a cold cache; log: $LOGS/install-minio.log)"
  if ! go install "$MINIO_MODULE" >"$LOGS/install-minio.log" 2>&1; then
    log "go install $MINIO_MODULE failed (see $LOGS/install-minio.log)"
    return 1
  fi
  minio_bin >/dev/null
}

requirements_hash() {
  cat "$REQUIREMENTS" "$ROOT/python/requirements-research.txt" "$ROOT/python/requirements-models.txt" "$CONSTRAINTS" "$( [[ "$(s3_backend)" == moto ]] && echo "$MOTO_REQUIREMENTS" || echo /dev/null )" \
    | sha256sum | cut -d' ' -f1
}

install_venv() {
  local want have=""
  if ! command -v python3 >/dev/null 2>&1; then
    MISSING+=("python3: install Python >= 3.10 (apt-get install -y python3 python3-venv)")
    return 1
  fi
  want="$(requirements_hash)"
  [[ -s "$VENV/.requirements.sha256" ]] && have="$(cat "$VENV/.requirements.sha256")"
  if [[ -x "$VENV/bin/python" && "$want" == "$have" ]]; then return 0; fi
  if [[ ! -x "$VENV/bin/python" ]]; then
    log "creating venv $VENV"
    python3 -m venv "$VENV" || {
      MISSING+=("python venv: 'python3 -m venv' failed; on Debian run 'apt-get install -y python3-venv'")
      return 1
    }
  fi
  log "installing $(basename "$REQUIREMENTS") into .venv (log: $LOGS/install-venv.log)"
  local files=(-r "$REQUIREMENTS")
  [[ "$(s3_backend)" == moto ]] && files+=(-r "$MOTO_REQUIREMENTS")
  if ! (cd "$ROOT/python" && "$VENV/bin/pip" install --no-input "${files[@]}") >"$LOGS/install-venv.log" 2>&1; then
    tail -n 20 "$LOGS/install-venv.log" >&2 || true
    MISSING+=("python packages: pip install -r python/requirements-services.txt failed (see $LOGS/install-venv.log); PyPI must be reachable")
    return 1
  fi
  echo "$want" >"$VENV/.requirements.sha256"
}

install_kernel() {
  local tslab="$ROOT/node_modules/.bin/tslab" spec="$VENV/share/jupyter/kernels/tslab/kernel.json"
  if [[ ! -x "$tslab" ]]; then
    MISSING+=("tslab: node_modules/.bin/tslab not found; run 'npm ci' in $ROOT first")
    return 1
  fi
  # The kernelspec records the absolute tslab path: reinstall when it is missing or points elsewhere.
  if [[ -s "$spec" ]] && grep -qF "\"$tslab\"" "$spec" && [[ -s "$VENV/share/jupyter/kernels/jslab/kernel.json" ]]; then
    return 0
  fi
  log "registering tslab/jslab kernels in .venv"
  if ! "$tslab" install --python="$VENV/bin/python" --sys-prefix --binary="$tslab" >"$LOGS/install-kernel.log" 2>&1; then
    cat "$LOGS/install-kernel.log" >&2
    MISSING+=("tslab kernel: 'node_modules/.bin/tslab install --python=.venv/bin/python --sys-prefix' failed")
    return 1
  fi
}

cmd_install() {
  mkdir -p "$LOGS"
  timed "redis-server" install_redis || true
  timed "chromium" install_chromium || true
  timed "prometheus" install_prometheus || true
  if [[ "${TM_S3_BACKEND:-}" == moto ]]; then
    echo moto >"$STATE/s3-backend"
  elif timed "minio build" install_minio; then
    echo minio >"$STATE/s3-backend"
  elif [[ "${TM_S3_BACKEND:-}" == minio ]]; then
    MISSING+=("minio: 'go install $MINIO_MODULE' failed (see $LOGS/install-minio.log); install Go >= 1.24 from https://go.dev/dl or run 'docker compose -f docker/docker-compose.yml up minio'")
  else
    echo moto >"$STATE/s3-backend"
    log "*** MinIO is not available: FALLING BACK TO moto_server for S3 (TM_S3_BACKEND=moto) ***"
  fi
  timed "python venv" install_venv || true
  timed "tslab kernel" install_kernel || true
  if ((${#MISSING[@]})); then
    log "cannot provide every service; missing:"
    printf '  - %s\n' "${MISSING[@]}" >&2
    log "alternative: run the services elsewhere (docker compose -f docker/docker-compose.yml up -d redis minio minio-init mlflow)"
    log "and set TM_SERVICES=external plus the variables of 'bash scripts/services.sh env' for npm test / npm run notebooks"
    exit 1
  fi
  log "install complete (S3 backend: $(s3_backend))"
}

# ---------------------------------------------------------------- start / stop
# Each service NAME we start has .services/NAME/NAME.pid and .services/NAME/config (the settings it was started
# with). It counts as running when the pid is alive, the settings are today's and its port answers; a service
# started with other settings (another port, bucket, ...) is stopped and started again.

redis_config() { echo "port=$REDIS_PORT"; }
minio_config() { echo "port=$MINIO_PORT console=$MINIO_CONSOLE_PORT user=$S3_USER password=$(printf %s "$S3_PASSWORD" | sha256sum | cut -c1-16)"; }
moto_config() { echo "port=$MINIO_PORT"; }
mlflow_config() { echo "port=$MLFLOW_PORT s3=$MINIO_PORT bucket=$S3_BUCKET user=$S3_USER workers=$MLFLOW_WORKERS venv=$(cat "$VENV/.requirements.sha256" 2>/dev/null)"; }
prometheus_config() { echo "port=$PROMETHEUS_PORT interval=$PROMETHEUS_SCRAPE_INTERVAL targets=$PROMETHEUS_TARGETS"; }
service_port() { case "$1" in redis) echo "$REDIS_PORT" ;; minio | moto) echo "$MINIO_PORT" ;; mlflow) echo "$MLFLOW_PORT" ;; prometheus) echo "$PROMETHEUS_PORT" ;; esac; }

running() { # running NAME
  pid_alive "$STATE/$1/$1.pid" &&
    [[ "$(cat "$STATE/$1/config" 2>/dev/null)" == "$("$1_config")" ]] &&
    port_open "$(service_port "$1")"
}

start_detached() { # start_detached NAME CMD...: new session (pgid = pid), pidfile + log
  local name="$1"
  shift
  mkdir -p "$STATE/$name"
  # 9>&-: the daemon must not inherit the `up` lock, or the next `up` waits forever.
  setsid "$@" >>"$LOGS/$name.log" 2>&1 </dev/null 9>&- &
  echo $! >"$STATE/$name/$name.pid"
  "${name}_config" >"$STATE/$name/config"
}

stop_service() { # stop_service NAME: TERM what we started (its process group, redis: its pid), then KILL
  local name="$1" pidfile="$STATE/$1/$1.pid" pid target
  if pid_alive "$pidfile"; then
    pid="$(cat "$pidfile")"
    # Our detached services lead their own process group; redis daemonizes and is stopped by pid alone.
    if [[ "$(ps -o pgid= -p "$pid" | tr -d ' ')" == "$pid" ]]; then target="-$pid"; else target="$pid"; fi
    kill -TERM -- "$target" 2>/dev/null || true
    for _ in $(seq 1 40); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.25
    done
    kill -0 "$pid" 2>/dev/null && { kill -KILL -- "$target" 2>/dev/null || true; }
    log "$name stopped (pid $pid)"
  fi
  rm -f "$pidfile" "$STATE/$name/config"
}

prepare_start() { # prepare_start NAME: stop a stale instance of ours, then insist the port is free
  local port
  port="$(service_port "$1")"
  stop_service "$1"
  if port_open "$port"; then
    die "$1: port $HOST:$port is in use by a process this script did not start; stop it or choose another port (TM_*_PORT, see the header of scripts/services.sh)"
  fi
}

up_redis() {
  running redis && return 0
  prepare_start redis
  mkdir -p "$STATE/redis"
  redis-server --bind "$HOST" --port "$REDIS_PORT" --save "" --appendonly no --daemonize yes \
    --pidfile "$STATE/redis/redis.pid" --logfile "$LOGS/redis.log" --dir "$STATE/redis" --protected-mode yes 9>&-
  redis_config >"$STATE/redis/config"
  wait_for redis "$WAIT_SECONDS" redis-cli -h "$HOST" -p "$REDIS_PORT" ping || {
    tail -n 20 "$LOGS/redis.log" >&2; return 1; }
}

s3_env() {
  export TM_S3_ENDPOINT="http://$HOST:$MINIO_PORT"
  export AWS_ACCESS_KEY_ID="$S3_USER" AWS_SECRET_ACCESS_KEY="$S3_PASSWORD" AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
}

bucket_ensure() {
  s3_env
  "$VENV/bin/python" - "$S3_BUCKET" <<'PY'
import os, sys, boto3
from botocore.exceptions import ClientError
bucket = sys.argv[1]
s3 = boto3.client("s3", endpoint_url=os.environ["TM_S3_ENDPOINT"], region_name="us-east-1",
                  aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
                  aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"])
try:
    s3.head_bucket(Bucket=bucket)
except ClientError:
    s3.create_bucket(Bucket=bucket)
s3.head_bucket(Bucket=bucket)
PY
}

up_s3() {
  local backend other bin
  backend="$(s3_backend)"
  if [[ "$backend" == minio ]]; then other=moto; else other=minio; fi
  if ! running "$backend"; then
    stop_service "$other"
    prepare_start "$backend"
    s3_env
    if [[ "$backend" == minio ]]; then
      bin="$(minio_bin)" || die "minio binary not found; run 'bash scripts/services.sh install'"
      mkdir -p "$STATE/minio/data"
      MINIO_ROOT_USER="$S3_USER" MINIO_ROOT_PASSWORD="$S3_PASSWORD" MINIO_BROWSER=off \
        MINIO_UPDATE=off MINIO_CI_CD=1 \
        start_detached minio "$bin" server "$STATE/minio/data" \
        --address "$HOST:$MINIO_PORT" --console-address "$HOST:$MINIO_CONSOLE_PORT" --quiet
      wait_for minio "$WAIT_SECONDS" http_ok "$TM_S3_ENDPOINT/minio/health/live" || {
        tail -n 20 "$LOGS/minio.log" >&2; return 1; }
    else
      log "*** S3 backend is moto_server (fallback), not MinIO ***"
      [[ -x "$VENV/bin/moto_server" ]] || die "moto_server missing in .venv; run 'TM_S3_BACKEND=moto bash scripts/services.sh install'"
      start_detached moto "$VENV/bin/moto_server" -H "$HOST" -p "$MINIO_PORT"
      wait_for moto "$WAIT_SECONDS" http_ok "$TM_S3_ENDPOINT/moto-api/" || {
        tail -n 20 "$LOGS/moto.log" >&2; return 1; }
    fi
  fi
  bucket_ensure
}

up_mlflow() {
  running mlflow && return 0
  prepare_start mlflow
  mkdir -p "$STATE/mlflow"
  s3_env
  (
    cd "$STATE/mlflow"
    MLFLOW_S3_ENDPOINT_URL="$TM_S3_ENDPOINT" \
      start_detached mlflow "$VENV/bin/mlflow" server --host "$HOST" --port "$MLFLOW_PORT" \
      --workers "$MLFLOW_WORKERS" \
      --backend-store-uri "sqlite:///$STATE/mlflow/mlflow.db" \
      --artifacts-destination "s3://$S3_BUCKET/mlflow" --serve-artifacts \
      --allowed-hosts "$HOST:$MLFLOW_PORT,localhost:$MLFLOW_PORT,$HOST,localhost"
  )
  wait_for mlflow "$WAIT_SECONDS" http_ok "http://$HOST:$MLFLOW_PORT/health" || {
    tail -n 30 "$LOGS/mlflow.log" >&2; return 1; }
}

# ---------------------------------------------------------------- Prometheus (on demand, not part of `up`)

cmd_prometheus_up() { # cmd_prometheus_up HOST:PORT...: (re)start Prometheus scraping these targets
  (($#)) || die "usage: bash scripts/services.sh prometheus-up HOST:PORT..."
  command -v prometheus >/dev/null 2>&1 || install_prometheus || die "prometheus is not installed: ${MISSING[*]}"
  local target list=""
  for target in "$@"; do list+="${list:+, }\"$target\""; done
  PROMETHEUS_TARGETS="$*"
  mkdir -p "$LOGS"
  running prometheus && return 0
  prepare_start prometheus
  rm -rf "$STATE/prometheus/data"
  mkdir -p "$STATE/prometheus/data"
  cat >"$STATE/prometheus/prometheus.yml" <<YAML
global:
  scrape_interval: $PROMETHEUS_SCRAPE_INTERVAL
  evaluation_interval: $PROMETHEUS_SCRAPE_INTERVAL
rule_files:
  - $ROOT/docker/prometheus/alert-rules.yml
scrape_configs:
  - job_name: trade-matrix-runner
    metrics_path: /metrics
    static_configs:
      - targets: [$list]
YAML
  start_detached prometheus prometheus --config.file="$STATE/prometheus/prometheus.yml" \
    --web.listen-address="$HOST:$PROMETHEUS_PORT" --storage.tsdb.path="$STATE/prometheus/data" \
    --storage.tsdb.retention.time=1d
  wait_for prometheus "$WAIT_SECONDS" http_ok "http://$HOST:$PROMETHEUS_PORT/-/ready" || {
    tail -n 30 "$LOGS/prometheus.log" >&2; return 1; }
  log "prometheus on http://$HOST:$PROMETHEUS_PORT scraping $*"
}

kernel_ok() { [[ -s "$VENV/share/jupyter/kernels/tslab/kernel.json" ]]; }

cmd_up() {
  mkdir -p "$LOGS"
  exec 9>"$STATE/lock"
  flock -w 900 9 || die "another services.sh holds $STATE/lock" # one `up` at a time (parallel test runs)
  if running redis && running "$(s3_backend)" && running mlflow && kernel_ok &&
    [[ "$(requirements_hash)" == "$(cat "$VENV/.requirements.sha256" 2>/dev/null)" ]]; then
    log "all services already running (S3 backend: $(s3_backend))"
    return 0
  fi
  local start
  start=$(now)
  cmd_install
  timed "redis up" up_redis
  timed "s3 ($(s3_backend)) up" up_s3
  timed "mlflow up" up_mlflow
  log "services up in $(( $(now) - start ))s (S3 backend: $(s3_backend))"
}

cmd_down() { # cmd_down [NAME...]: stop the named services (default all), MLflow before the S3 store it writes to
  mkdir -p "$STATE"
  exec 9>"$STATE/lock"
  flock -w 900 9 || die "another services.sh holds $STATE/lock"
  local name wanted=("$@")
  ((${#wanted[@]})) || wanted=(prometheus mlflow minio moto redis)
  for name in "${wanted[@]}"; do
    [[ "$name" =~ ^(prometheus|mlflow|minio|moto|redis)$ ]] || die "down: unknown service '$name' (redis, minio, moto, mlflow, prometheus)"
  done
  for name in prometheus mlflow minio moto redis; do
    [[ " ${wanted[*]} " == *" $name "* ]] && stop_service "$name"
  done
  return 0
}

cmd_running() { # one line per service of ours that is running with today's settings
  local name
  for name in redis minio moto mlflow; do running "$name" && echo "$name"; done
  return 0
}

cmd_status() {
  local ok=0 name
  for name in redis "$(s3_backend)" mlflow; do
    if running "$name"; then
      printf '%-8s running   pid %-7s %s:%s\n' "$name" "$(cat "$STATE/$name/$name.pid")" "$HOST" "$(service_port "$name")"
    elif pid_alive "$STATE/$name/$name.pid"; then
      printf '%-8s stale     pid %-7s started with other settings or not answering (up restarts it)\n' "$name" "$(cat "$STATE/$name/$name.pid")"
      ok=1
    else
      printf '%-8s stopped   %s:%s\n' "$name" "$HOST" "$(service_port "$name")"
      ok=1
    fi
  done
  if kernel_ok; then
    printf '%-8s installed %s\n' tslab "$VENV/share/jupyter/kernels/tslab"
  else
    printf '%-8s missing   (bash scripts/services.sh install)\n' tslab
    ok=1
  fi
  return "$ok"
}

emit() { # emit NAME VALUE: an `export` line, single-quoted when needed
  if [[ "$2" =~ ^[A-Za-z0-9_./:@%+=,-]*$ ]]; then
    printf 'export %s=%s\n' "$1" "$2"
  else
    printf "export %s='%s'\n" "$1" "${2//\'/\'\\\'\'}"
  fi
}

cmd_env() {
  emit REDIS_URL "redis://$HOST:$REDIS_PORT"
  emit MLFLOW_TRACKING_URI "http://$HOST:$MLFLOW_PORT"
  emit TM_S3_ENDPOINT "http://$HOST:$MINIO_PORT"
  emit MLFLOW_S3_ENDPOINT_URL "http://$HOST:$MINIO_PORT"
  emit TM_S3_BUCKET "$S3_BUCKET"
  emit TM_S3_BACKEND "$(s3_backend)"
  emit AWS_ACCESS_KEY_ID "$S3_USER"
  emit AWS_SECRET_ACCESS_KEY "$S3_PASSWORD"
  emit AWS_REGION us-east-1
  emit TM_PYTHON "$VENV/bin/python"
  emit TM_JUPYTER "$VENV/bin/jupyter"
}

case "${1:-}" in
  install) cmd_install ;;
  up) cmd_up ;;
  down) shift; cmd_down "$@" ;;
  running) cmd_running ;;
  status) cmd_status ;;
  env) cmd_env ;;
  prometheus-up) shift && cmd_prometheus_up "$@" ;;
  prometheus-down) stop_service prometheus ;;
  *)
    echo "usage: bash scripts/services.sh install|up|down [NAME...]|status|running|env|prometheus-up HOST:PORT...|prometheus-down" >&2
    exit 2
    ;;
esac
