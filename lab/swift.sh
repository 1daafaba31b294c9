# OpenStack Swift (Debian's 2.30 packages) as a private single-node cluster on loopback, for the lab's Swift
# image store. Sourced by ./ferry after lib.sh. State lives in $FERRY_HOME/swift (config, rings, one device,
# pidfiles), logs in $FERRY_HOME/log/swift-*.log. Reads FERRY_HOME, FERRY_SWIFT_KEY, FERRY_SWIFT_PORT.

SWIFT_PACKAGES=(swift swift-proxy swift-account swift-container swift-object python3-swiftclient memcached)
SWIFT_PROXY_PORT=${FERRY_SWIFT_PORT:-8090}
# Backend ports are baked into the rings when they are built, so they are fixed, not configurable. They sit
# just above Swift's usual 6200-6202 so a system Swift (or a SAIO) on the same machine does not clash.
SWIFT_OBJECT_PORT=6210
SWIFT_CONTAINER_PORT=6211
SWIFT_ACCOUNT_PORT=6212
SWIFT_MEMCACHED_PORT=11212 # not the system memcached's 11211
SWIFT_USER=ferry:ferry
SWIFT_ACCOUNT=AUTH_ferry
# Start order: memcached and the storage servers before the proxy; stop runs it backwards.
SWIFT_SERVERS=(memcached object container account object-updater container-updater proxy)
SWIFT_WAIT_SECONDS=60

# say/die come from lib.sh; the fallbacks keep this file usable when sourced on its own.
_swift_say() { if declare -F say >/dev/null; then say "$@"; else printf 'ferry: %s\n' "$*"; fi; }
_swift_die() {
  if declare -F die >/dev/null; then die "$@"; fi
  printf 'ferry: error: %s\n' "$*" >&2
  return 1
}

_swift_base() { printf '%s/swift' "${FERRY_HOME:?FERRY_HOME must be set}"; }
_swift_log() { printf '%s/log/swift-%s.log' "$FERRY_HOME" "$1"; }

# --- packages ----------------------------------------------------------------------------------------
swift_install_packages() {
  local missing=() p cmd
  for p in "${SWIFT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  _swift_say "installing apt packages: ${missing[*]}"
  cmd=(env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${SWIFT_PACKAGES[@]}")
  # Only refresh the package lists when the cached ones turn out to be stale.
  "${cmd[@]}" >/dev/null 2>&1 || { apt-get update -qq >/dev/null && "${cmd[@]}" >/dev/null; } ||
    _swift_die "could not install Swift packages (${missing[*]})"
}

# --- process bookkeeping ----------------------------------------------------------------------------
# What a live process of ours must have on its command line: guards against a stale pidfile whose pid has
# since been reused by an unrelated process (we kill whole process groups, so this matters).
_swift_marker() { # server
  if [ "$1" = memcached ]; then printf -- '-p %s' "$SWIFT_MEMCACHED_PORT"; else printf '%s/etc/' "$(_swift_base)"; fi
}

# A zombie still answers kill -0 until something reaps it (here PID 1, lazily); it is not running.
_swift_pid_alive() { # pid
  local st
  st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  case $st in Z*) return 1 ;; *) return 0 ;; esac
}

_swift_pid() { # server -> prints the pid if that server is running
  local pidfile pid cmd
  pidfile="$(_swift_base)/run/$1.pid"
  [ -s "$pidfile" ] || return 1
  pid=$(cat "$pidfile")
  case $pid in '' | *[!0-9]*) return 1 ;; esac
  _swift_pid_alive "$pid" || return 1
  cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") || return 1
  case $cmd in *"$(_swift_marker "$1")"*) ;; *) return 1 ;; esac
  printf '%s' "$pid"
}

_swift_running() { _swift_pid "$1" >/dev/null; }

_swift_port_of() { # server -> its TCP port, none for the updaters
  case $1 in
    memcached) echo "$SWIFT_MEMCACHED_PORT" ;;
    object) echo "$SWIFT_OBJECT_PORT" ;;
    container) echo "$SWIFT_CONTAINER_PORT" ;;
    account) echo "$SWIFT_ACCOUNT_PORT" ;;
    proxy) echo "$SWIFT_PROXY_PORT" ;;
    *) echo "" ;;
  esac
}

_swift_port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The command line of each server. Absolute paths throughout: the python3 first on PATH (pyenv) has no swift.
# -v keeps the servers logging to stderr (there is no syslog daemon here), which goes to their log file.
_swift_command() { # server -> its argv, NUL-separated (paths may hold spaces)
  local etc mc_user=memcache
  etc="$(_swift_base)/etc"
  case $1 in
    memcached)
      id -u memcache >/dev/null 2>&1 || mc_user=nobody
      printf '%s\0' /usr/bin/memcached -u "$mc_user" -l 127.0.0.1 -p "$SWIFT_MEMCACHED_PORT" -U 0 -m 64 -c 1024
      ;;
    object | container | account | proxy) printf '%s\0' "/usr/bin/swift-$1-server" "$etc/$1-server.conf" -v ;;
    object-updater) printf '%s\0' /usr/bin/swift-object-updater "$etc/object-server.conf" -v ;;
    container-updater) printf '%s\0' /usr/bin/swift-container-updater "$etc/container-server.conf" -v ;;
  esac
}

# Runs a server in its own session (pid == process group, so stop can take its workers along); the child
# writes its own pid before exec, which stays right even when setsid has to fork (job-control shells).
_swift_spawn() { # server
  local run pidfile log i cmd
  run="$(_swift_base)/run"
  pidfile="$run/$1.pid"
  log=$(_swift_log "$1")
  mapfile -d '' -t cmd < <(_swift_command "$1")
  rm -f "$pidfile"
  env -u PYTHONPATH -u PYTHONHOME setsid /bin/bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "${cmd[@]}" \
    >>"$log" 2>&1 </dev/null &
  for i in $(seq 1 50); do [ -s "$pidfile" ] && return 0; sleep 0.1; done
  _swift_die "swift $1 did not start (see $log)"
}

_swift_kill() { # server: TERM the process group, then KILL what is left after 10 s
  local pid i
  pid=$(_swift_pid "$1") || { rm -f "$(_swift_base)/run/$1.pid"; return 0; }
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 100); do _swift_running "$1" || break; sleep 0.1; done
  kill -KILL -- "-$pid" 2>/dev/null || true
  for i in $(seq 1 20); do _swift_running "$1" || break; sleep 0.1; done
  rm -f "$(_swift_base)/run/$1.pid"
}

# --- configuration ----------------------------------------------------------------------------------
# Writes a file only when its content changes; returns 0 if it changed (so a running server needs a restart).
_swift_put() { # file (content on stdin)
  local tmp="$1.tmp"
  (umask 077 && cat >"$tmp")
  if [ -f "$1" ] && cmp -s "$tmp" "$1"; then rm -f "$tmp"; return 1; fi
  mv -f "$tmp" "$1"
}

_swift_storage_conf() { # base kind port extra-sections
  local base="$1" kind=$2 port=$3 extra=$4
  cat <<CONF
# Generated by lab/swift.sh; rewritten on every start.
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $port
workers = 1
user = $(id -un)
swift_dir = $base/etc
devices = $base/devices
mount_check = false
recon_cache_path = $base/cache
log_name = $kind-server
log_level = INFO

[pipeline:main]
pipeline = healthcheck recon $kind-server

[app:$kind-server]
use = egg:swift#$kind

[filter:healthcheck]
use = egg:swift#healthcheck

[filter:recon]
use = egg:swift#recon
$extra
CONF
}

_swift_proxy_conf() { # base key
  local base=$1 key=$2
  cat <<CONF
# Generated by lab/swift.sh; rewritten on every start. Holds the tempauth key: keep private.
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $SWIFT_PROXY_PORT
workers = 1
user = $(id -un)
swift_dir = $base/etc
log_name = proxy-server
log_level = INFO

# Order as in Swift's proxy-server.conf-sample: tempurl before tempauth, slo/dlo after auth and copy.
[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats tempurl tempauth copy slo dlo versioned_writes proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
# tempauth accounts exist only once the first request creates them.
account_autocreate = true

[filter:tempauth]
use = egg:swift#tempauth
user_${SWIFT_USER%%:*}_${SWIFT_USER#*:} = $key .admin http://127.0.0.1:$SWIFT_PROXY_PORT/v1/$SWIFT_ACCOUNT

# Defaults: GET HEAD PUT POST DELETE; sha1, sha256 and sha512 signatures; key in X-Account-Meta-Temp-URL-Key.
[filter:tempurl]
use = egg:swift#tempurl

[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:$SWIFT_MEMCACHED_PORT

[filter:catch_errors]
use = egg:swift#catch_errors

[filter:gatekeeper]
use = egg:swift#gatekeeper

[filter:healthcheck]
use = egg:swift#healthcheck

[filter:proxy-logging]
use = egg:swift#proxy_logging

[filter:listing_formats]
use = egg:swift#listing_formats

[filter:copy]
use = egg:swift#copy

[filter:slo]
use = egg:swift#slo

[filter:dlo]
use = egg:swift#dlo

[filter:versioned_writes]
use = egg:swift#versioned_writes
CONF
}

# Writes every config file; prints the servers whose config changed.
_swift_configure() { # key
  local base key=$1
  base=$(_swift_base)
  # The hash prefix/suffix decide where every object lives: generated once, never rewritten.
  if [ ! -s "$base/etc/swift.conf" ]; then
    (umask 077 && cat >"$base/etc/swift.conf") <<CONF
# Generated once by lab/swift.sh. Never change the hash values: existing data would become unreachable.
[swift-hash]
swift_hash_path_suffix = $(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
swift_hash_path_prefix = $(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')

[storage-policy:0]
name = Policy-0
default = yes
CONF
  fi
  _swift_storage_conf "$base" object "$SWIFT_OBJECT_PORT" "
[object-replicator]

[object-auditor]

# Sweeps every 10 s; at INFO each sweep would add two log lines.
[object-updater]
log_name = object-updater
log_level = WARNING
interval = 10" | _swift_put "$base/etc/object-server.conf" && echo object object-updater
  _swift_storage_conf "$base" container "$SWIFT_CONTAINER_PORT" "
[container-replicator]

[container-auditor]

[container-sync]

[container-sharder]

# Keeps the account's per-container byte and object counts current.
[container-updater]
log_name = container-updater
log_level = WARNING
interval = 10" | _swift_put "$base/etc/container-server.conf" && echo container container-updater
  _swift_storage_conf "$base" account "$SWIFT_ACCOUNT_PORT" "
[account-replicator]

[account-auditor]

[account-reaper]" | _swift_put "$base/etc/account-server.conf" && echo account
  _swift_proxy_conf "$base" "$key" | _swift_put "$base/etc/proxy-server.conf" && echo proxy
  return 0
}

# One ring per kind, one replica, one device, built once. The three build in parallel: each
# swift-ring-builder run is a ~0.5 s Python start-up and there are three runs per ring.
_swift_ring() { # kind
  local etc="$(_swift_base)/etc" kind=$1 rc=0
  [ -s "$etc/$kind.ring.gz" ] && return 0
  rm -f "$etc/$kind.builder"
  /usr/bin/swift-ring-builder "$etc/$kind.builder" create 10 1 1 >/dev/null &&
    /usr/bin/swift-ring-builder "$etc/$kind.builder" add --region 1 --zone 1 --ip 127.0.0.1 \
      --port "$(_swift_port_of "$kind")" --device d1 --weight 100 >/dev/null || return 1
  # rebalance exits 1 for mere warnings; the ring file is what counts.
  /usr/bin/swift-ring-builder "$etc/$kind.builder" rebalance >/dev/null || rc=$?
  [ "$rc" -le 1 ] && [ -s "$etc/$kind.ring.gz" ]
}

_swift_rings() {
  local kind pids=() failed=""
  for kind in account container object; do _swift_ring "$kind" & pids+=("$!"); done
  for kind in account container object; do
    wait "${pids[0]}" || failed="$failed $kind"
    pids=("${pids[@]:1}")
  done
  [ -z "$failed" ] || _swift_die "swift-ring-builder could not build the ring(s)$failed in $(_swift_base)/etc"
}

# --- health -----------------------------------------------------------------------------------------
_swift_curl() { curl --noproxy '*' -s --max-time 5 "$@"; }

swift_status() {
  [ "$(_swift_curl -o /dev/null -w '%{http_code}' "http://127.0.0.1:$SWIFT_PROXY_PORT/healthcheck")" = 200 ]
}

# A real tempauth login, then a HEAD of the account through it (reaches memcached and all three rings).
# The key goes through stdin, not curl's argv, so it does not show in ps.
_swift_login_ok() { # key
  local headers token url
  headers=$(printf 'X-Auth-User: %s\nX-Auth-Key: %s\n' "$SWIFT_USER" "$1" |
    _swift_curl -o /dev/null -D - -H @- "http://127.0.0.1:$SWIFT_PROXY_PORT/auth/v1.0") || return 1
  case $headers in HTTP/1.1\ 200*) ;; *) return 1 ;; esac
  token=$(printf '%s\n' "$headers" | tr -d '\r' | sed -n 's/^[Xx]-[Aa]uth-[Tt]oken: *//p')
  url=$(printf '%s\n' "$headers" | tr -d '\r' | sed -n 's/^[Xx]-[Ss]torage-[Uu]rl: *//p')
  [ -n "$token" ] && [ -n "$url" ] || return 1
  case $(printf 'X-Auth-Token: %s\n' "$token" | _swift_curl -o /dev/null -w '%{http_code}' -I -H @- "$url") in
    2??) return 0 ;;
    *) return 1 ;;
  esac
}

_swift_wait_healthy() { # key
  local deadline=$((SECONDS + SWIFT_WAIT_SECONDS)) s logs
  logs="$FERRY_HOME/log/swift-*.log"
  while :; do
    for s in "${SWIFT_SERVERS[@]}"; do
      _swift_running "$s" || _swift_die "swift $s exited during startup (see $(_swift_log "$s"))" || return 1
    done
    if swift_status && _swift_login_ok "$1"; then return 0; fi
    [ "$SECONDS" -lt "$deadline" ] || break
    sleep 0.3
  done
  _swift_die "Swift did not become healthy on 127.0.0.1:$SWIFT_PROXY_PORT within ${SWIFT_WAIT_SECONDS}s (healthcheck + tempauth login); see $logs"
}

# --- start / stop -----------------------------------------------------------------------------------
swift_start() {
  local base key changed s port
  base=$(_swift_base)
  key=${FERRY_SWIFT_KEY:-}
  [ -n "$key" ] || _swift_die "FERRY_SWIFT_KEY is not set (the tempauth key of $SWIFT_USER)" || return 1
  # The key lands in a paste.deploy ini line: no spaces, no '%' (interpolation), no '#'/';'.
  case $key in *[!A-Za-z0-9._~+/=-]*)
    _swift_die "FERRY_SWIFT_KEY may only contain letters, digits and ._~+/=-" || return 1 ;;
  esac
  [ -x /usr/bin/swift-proxy-server ] && [ -x /usr/bin/memcached ] ||
    _swift_die "Swift is not installed (run swift_install_packages)" || return 1
  mkdir -p "$base"/{etc,run,cache,devices/d1} "$FERRY_HOME/log"
  chmod 700 "$base/etc"
  changed=" $(_swift_configure "$key" | tr '\n' ' ') "
  _swift_rings || return 1
  for s in "${SWIFT_SERVERS[@]}"; do
    if _swift_running "$s"; then
      # Running with an outdated config (e.g. a new key or proxy port): restart just that server.
      case $changed in *" $s "*) _swift_say "swift $s: config changed, restarting"; _swift_kill "$s" ;; *) continue ;; esac
    fi
    port=$(_swift_port_of "$s")
    if [ -n "$port" ] && _swift_port_open "$port"; then
      _swift_die "127.0.0.1:$port is taken by another process; swift $s needs it" || return 1
    fi
    _swift_spawn "$s" || return 1
  done
  _swift_wait_healthy "$key"
}

swift_stop() {
  local base i s pids
  base=$(_swift_base)
  for ((i = ${#SWIFT_SERVERS[@]} - 1; i >= 0; i--)); do _swift_kill "${SWIFT_SERVERS[$i]}"; done
  # Belt and braces for lost pidfiles: anything still running from this lab's config dir or on our memcached port.
  pids=$(pgrep -f -- "/usr/bin/swift-[a-z-]+ $(printf '%s' "$base/etc/" | sed 's/[][\.*^$+?(){}|]/\\&/g')" || true)
  pids="$pids $(pgrep -f -- "^/usr/bin/memcached .*-l 127\.0\.0\.1 -p $SWIFT_MEMCACHED_PORT( |$)" || true)"
  for s in $pids; do kill -TERM "$s" 2>/dev/null || true; done
  for s in $pids; do
    for i in $(seq 1 50); do _swift_pid_alive "$s" || break; sleep 0.1; done
    kill -KILL "$s" 2>/dev/null || true
  done
  return 0
}
