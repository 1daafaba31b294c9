#!/usr/bin/env bash
# Keeps one Ferry process running: restarts it when it dies, after a short backoff, and logs each restart.
#   lab/supervise.sh <pidfile> <command> [args...]
# <pidfile> holds the pid of the running process (not this supervisor's), for whoever wants to signal the process
# itself; a test SIGKILLs it to simulate a crash. TERM or INT stops the process and then the supervisor: no restart.
# The backoff starts at 1 s and doubles up to FERRY_RESTART_BACKOFF_MAX (10 s) while the process keeps dying
# within a minute of its start; a process that ran longer is restarted after 1 s again.
set -uo pipefail
[ $# -ge 2 ] || { echo "usage: $0 <pidfile> <command> [args...]" >&2; exit 2; }
pidfile=$1
shift
max_backoff=${FERRY_RESTART_BACKOFF_MAX:-10}
stopping=0
child=

log() { printf '%s supervise[%s]: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$$" "$*" >&2; }

stop() {
  stopping=1
  [ -n "$child" ] || return 0
  kill -TERM "$child" 2>/dev/null || return 0
  # Its grace period is shorter than the launcher's (stop_bg kills the group after 10 s).
  local i
  for i in $(seq 1 80); do kill -0 "$child" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$child" 2>/dev/null || true
}
trap stop TERM INT

backoff=1
while [ "$stopping" = 0 ]; do
  started=$(date +%s)
  "$@" &
  child=$!
  echo "$child" > "$pidfile"
  # wait returns early when a signal's trap ran; wait again for the child's own end.
  wait "$child"
  status=$?
  while kill -0 "$child" 2>/dev/null; do wait "$child"; status=$?; done
  child=
  [ "$stopping" = 0 ] || break
  ran=$(($(date +%s) - started))
  [ "$ran" -lt 60 ] || backoff=1
  log "$* exited (status $status) after ${ran}s; restarting in ${backoff}s"
  sleep "$backoff" &
  wait $! 2>/dev/null
  backoff=$((backoff * 2 > max_backoff ? max_backoff : backoff * 2))
done
rm -f "$pidfile"
log "stopped $*"
