#!/bin/bash
# LabHub's own service supervision where systemd is not PID 1 (containers, minimal systems):
# one small loop per service (proxy, hub) that runs `labhub proxy|hub`, restarts it when it
# exits (1 s back-off, doubling up to 30 s while it keeps crashing), and stops it on request.
# Installed as /opt/labhub/bin/labhub-supervise; install.sh uses it when it cannot use systemd.
#
#   labhub-supervise start [all|proxy|hub]     start what is not running (detached, own session)
#   labhub-supervise stop [all|hub|proxy]      stop (hub first); students' servers keep running
#   labhub-supervise restart [hub|proxy|all]
#   labhub-supervise status                    exit 0 when both run, 3 otherwise
#
# Pid files in $LABHUB_RUN_DIR (default /run/labhub): NAME.supervisor.pid (the loop), NAME.pid
# (the service). Output of each service goes to $LABHUB_LOG_DIR/NAME.out, restarts to supervise.log.
set -u

RUN_DIR=${LABHUB_RUN_DIR:-/run/labhub}
LOG_DIR=${LABHUB_LOG_DIR:-/var/log/labhub}
BIN=${LABHUB_BIN:-/opt/labhub/bin/labhub}
CONFIG=${LABHUB_CONFIG:-/etc/labhub/config.json}
SELF=$(readlink -f "$0")

# alive and not a zombie (where no init reaps orphans, e.g. a container's PID 1, a dead service stays a zombie)
alive() {
  local st
  st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "${st:0:1}" != Z ]
}

log() { echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) $*" >>"$LOG_DIR/supervise.log"; }

# pid of NAME's loop when it is alive (and really our loop, not a reused pid), else nothing
loop_pid() {
  local pid
  pid=$(cat "$RUN_DIR/$1.supervisor.pid" 2>/dev/null) || return 1
  [ -n "$pid" ] && alive "$pid" || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "_loop $1" || return 1
  echo "$pid"
}

service_pid() {
  local pid
  pid=$(cat "$RUN_DIR/$1.pid" 2>/dev/null) || return 1
  [ -n "$pid" ] && alive "$pid" || return 1
  echo "$pid"
}

run_loop() {
  local name=$1 child='' stopping='' rc started backoff=1
  umask 027
  echo $$ >"$RUN_DIR/$name.supervisor.pid"
  trap 'stopping=1; [ -n "$child" ] && kill -TERM "$child" 2>/dev/null' TERM INT
  trap '' HUP
  while [ -z "$stopping" ]; do
    started=$(date +%s)
    # stdout is the same pino log the service writes to LOG_DIR/NAME.log; stderr keeps crash messages
    LABHUB_CONFIG=$CONFIG "$BIN" "$name" --config "$CONFIG" </dev/null >/dev/null 2>>"$LOG_DIR/$name.out" &
    child=$!
    echo "$child" >"$RUN_DIR/$name.pid"
    log "$name started (pid $child)"
    # `wait` returns early when a trapped signal arrives: wait until the child is really gone
    rc=0
    wait "$child" || rc=$?
    while kill -0 "$child" 2>/dev/null; do wait "$child" || rc=$?; done
    child=''
    rm -f "$RUN_DIR/$name.pid"
    [ -n "$stopping" ] && break
    if [ $(( $(date +%s) - started )) -ge 60 ]; then backoff=1; fi
    log "$name exited (status $rc); restarting in ${backoff}s"
    sleep "$backoff" & wait $! || true
    backoff=$(( backoff * 2 > 30 ? 30 : backoff * 2 ))
  done
  log "$name stopped"
  rm -f "$RUN_DIR/$name.supervisor.pid"
}

start_one() {
  local name=$1 pid
  if pid=$(loop_pid "$name"); then
    echo "labhub-supervise: $name is already supervised (pid $pid)"
    return 0
  fi
  mkdir -p "$RUN_DIR" "$LOG_DIR"
  rm -f "$RUN_DIR/$name.pid"
  setsid "$SELF" _loop "$name" </dev/null >/dev/null 2>&1 &
  for _ in $(seq 1 50); do
    service_pid "$name" >/dev/null && { echo "labhub-supervise: $name started (pid $(service_pid "$name"))"; return 0; }
    sleep 0.1
  done
  echo "labhub-supervise: $name did not start; see $LOG_DIR/$name.out" >&2
  return 1
}

stop_one() {
  local name=$1 pid child
  if ! pid=$(loop_pid "$name"); then
    # a service left without its loop (the loop was killed): stop it too
    if child=$(service_pid "$name"); then kill -TERM "$child" 2>/dev/null; fi
    rm -f "$RUN_DIR/$name.pid" "$RUN_DIR/$name.supervisor.pid"
    return 0
  fi
  child=$(service_pid "$name" || true)
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 1 300); do
    if ! alive "$pid" && { [ -z "$child" ] || ! alive "$child"; }; then break; fi
    sleep 0.1
  done
  if alive "$pid" || { [ -n "$child" ] && alive "$child"; }; then
    echo "labhub-supervise: $name did not stop within 30 s; killing it" >&2
    [ -n "$child" ] && kill -KILL "$child" 2>/dev/null
    kill -KILL "$pid" 2>/dev/null
  fi
  rm -f "$RUN_DIR/$name.pid" "$RUN_DIR/$name.supervisor.pid"
  echo "labhub-supervise: $name stopped"
}

which_services() {
  case "${1:-all}" in
    all) echo "$2" ;;
    proxy|hub) echo "$1" ;;
    *) echo "labhub-supervise: unknown service \"$1\" (proxy, hub or all)" >&2; exit 2 ;;
  esac
}

cmd=${1:-}
case "$cmd:${2:-all}" in
  start:*|stop:*|restart:*) which_services "${2:-all}" '' >/dev/null || exit 2 ;;
esac
case "$cmd" in
  _loop) run_loop "$2" ;;
  start)
    for s in $(which_services "${2:-all}" "proxy hub"); do start_one "$s" || exit 1; done ;;
  stop)
    for s in $(which_services "${2:-all}" "hub proxy"); do stop_one "$s"; done ;;
  restart)
    for s in $(which_services "${2:-all}" "hub proxy"); do stop_one "$s"; done
    for s in $(which_services "${2:-all}" "proxy hub"); do start_one "$s" || exit 1; done ;;
  status)
    rc=0
    for s in proxy hub; do
      if pid=$(service_pid "$s"); then echo "$s: running (pid $pid, supervisor $(loop_pid "$s" || echo none))"
      else echo "$s: not running"; rc=3; fi
    done
    exit "$rc" ;;
  *)
    sed -n '2,13p' "$SELF" | sed 's/^# \{0,1\}//'
    [ -z "$cmd" ] || [ "$cmd" = -h ] || [ "$cmd" = --help ] || exit 2 ;;
esac
