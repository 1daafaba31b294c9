# Shared helpers for the lab scripts: paths, pidfiles, waiting for ports.
# Sourced by ./ferry; every function here is idempotent.

FERRY_HOME=${FERRY_HOME:-"$FERRY_ROOT/.ferry"}
RUN_DIR="$FERRY_HOME/run"
LOG_DIR="$FERRY_HOME/log"
# Tools (Python venv with temporal, weed, cs) live outside the checkout so fresh clones on one machine share them.
FERRY_TOOLS=${FERRY_TOOLS:-/opt/ferry-tools}
VENV="$FERRY_TOOLS/venv"

say() { printf 'ferry: %s\n' "$*"; }
die() { printf 'ferry: error: %s\n' "$*" >&2; exit 1; }

pid_alive() { # pidfile
  [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

# Starts a command in its own session (so `down` can kill the whole group), logging to $LOG_DIR/<name>.log.
start_bg() { # name, command...
  local name=$1; shift
  mkdir -p "$RUN_DIR" "$LOG_DIR"
  if pid_alive "$RUN_DIR/$name.pid"; then return 0; fi
  setsid "$@" >>"$LOG_DIR/$name.log" 2>&1 < /dev/null &
  echo $! > "$RUN_DIR/$name.pid"
}

stop_bg() { # name
  local pidfile="$RUN_DIR/$1.pid" pid i
  [ -f "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
    for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

wait_port() { # host, port, what, [seconds]
  local host=$1 port=$2 what=$3 limit=${4:-60} i
  for i in $(seq 1 $((limit * 10))); do
    if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  die "$what did not listen on $host:$port within ${limit}s (see $LOG_DIR)"
}

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }
