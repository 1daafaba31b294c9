# Start/stop functions for each service of the lab. Sourced by ./ferry after lib.sh.

PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
PG_PORT=${FERRY_PG_PORT:-5433}
TEMPORAL_PORT=${FERRY_TEMPORAL_PORT:-7233}
TEMPORAL_UI_PORT=${FERRY_TEMPORAL_UI_PORT:-8233}
S3_PORT=${FERRY_S3_PORT:-8333}
IMAGES_PORT=${FERRY_IMAGES_PORT:-8099}
# The image server has a loopback address of its own, so allowing it for downloads opens no other lab service.
IMAGES_ADDRESS=${FERRY_IMAGES_ADDRESS:-127.0.20.1}
API_PORT=${FERRY_API_PORT:-8080}
WORKER_PROBE_BASE_PORT=${FERRY_WORKER_PROBE_BASE_PORT:-8280}
SEARCH_ATTRIBUTES=(FerryCommand FerryObjectType FerryObjectId FerryZone)

# --- secrets and keys of this lab, generated once --------------------------------------------------
lab_init() {
  mkdir -p "$FERRY_HOME"/{run,log,keys,hosts,pools,images,exports/{nfs-a,cache-a,cache-b}}
  chmod 755 "$FERRY_HOME"
  local env="$FERRY_HOME/lab.env"
  if [ ! -f "$env" ]; then
    umask 077
    cat > "$env" <<ENV
# Generated once by ./ferry for this lab. Secrets: keep this file private.
FERRY_MASTER_KEY=$(head -c 32 /dev/urandom | base64 -w0)
FERRY_PG_PASSWORD=$(head -c 18 /dev/urandom | base64 -w0 | tr '+/' 'xy')
FERRY_S3_ACCESS_KEY=ferry$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')
FERRY_S3_SECRET_KEY=$(head -c 24 /dev/urandom | base64 -w0 | tr '+/' 'xy')
ENV
    umask 022
  fi
  # Secrets added by later versions of the lab are appended to an existing lab.env.
  grep -q '^FERRY_SWIFT_KEY=' "$env" ||
    echo "FERRY_SWIFT_KEY=$(head -c 24 /dev/urandom | base64 -w0 | tr '+/' 'xy')" >> "$env"
  [ -f "$FERRY_HOME/keys/ferry_ed25519" ] ||
    ssh-keygen -q -t ed25519 -N '' -C 'ferry@lab' -f "$FERRY_HOME/keys/ferry_ed25519"
  set -a; . "$env"; set +a
  export DATABASE_URL=${DATABASE_URL:-"postgres://ferry:$FERRY_PG_PASSWORD@127.0.0.1:$PG_PORT/ferry"}
  export TEMPORAL_ADDRESS=${TEMPORAL_ADDRESS:-"127.0.0.1:$TEMPORAL_PORT"}
  export FERRY_API_PORT=$API_PORT
  export FERRY_SSH_PRIVATE_KEY_FILE=${FERRY_SSH_PRIVATE_KEY_FILE:-"$FERRY_HOME/keys/ferry_ed25519"}
  export FERRY_ADMIN_FILE=${FERRY_ADMIN_FILE:-"$FERRY_HOME/admin.json"}
  export FERRY_HOME
  # The lab's services that neither Ferry's configuration nor its catalogue names; no user download may reach them
  # (lab/lab-layout.ts labServiceEndpoints lists the same): Temporal's UI, SeaweedFS's S3, filer, master and volume
  # ports with their gRPC ports, Iceberg and Lance; Swift's proxy, storage servers and memcached.
  local p endpoints=()
  for p in "$TEMPORAL_UI_PORT" "$S3_PORT" $((S3_PORT + 10000)) 8888 18888 9333 19333 9340 19340 8181 9101 \
    "${FERRY_SWIFT_PORT:-8090}" 6210 6211 6212 11212; do endpoints+=("127.0.0.1:$p"); done
  for ((p = WORKER_PROBE_BASE_PORT; p < WORKER_PROBE_BASE_PORT + 10; p++)); do endpoints+=("127.0.0.1:$p"); done
  FERRY_SERVICE_ENDPOINTS=${FERRY_SERVICE_ENDPOINTS:-$(IFS=,; echo "${endpoints[*]}")}
  export FERRY_SERVICE_ENDPOINTS
}

# --- PostgreSQL: a private cluster owned by the postgres user --------------------------------------
# PostgreSQL refuses to run as root, so its data must be reachable by the postgres user: under .ferry/ when the
# checkout's path lets it through, otherwise (a checkout under /root, say) in /var/lib/ferry/<hash of .ferry>.
postgres_data() {
  if su postgres -s /bin/sh -c "test -x '$FERRY_HOME'" 2>/dev/null; then
    echo "$FERRY_HOME/postgres"
  else
    echo "/var/lib/ferry/$(printf '%s' "$FERRY_HOME" | sha256sum | cut -c1-12)/postgres"
  fi
}

postgres_start() {
  local data
  data=$(postgres_data)
  if [ ! -f "$data/PG_VERSION" ]; then
    mkdir -p "$data" && chown postgres:postgres "$data" && chmod 700 "$data"
    [ "$data" = "$FERRY_HOME/postgres" ] || ln -sfn "$data" "$FERRY_HOME/postgres"
    su postgres -s /bin/sh -c "'$PG_BIN/initdb' -D '$data' -U postgres -A trust --no-sync -E UTF8" >/dev/null
    cat >> "$data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$data'
fsync = on
CONF
    cat > "$data/pg_hba.conf" <<HBA
local all postgres trust
host  all all 127.0.0.1/32 scram-sha-256
HBA
  fi
  if ! su postgres -s /bin/sh -c "'$PG_BIN/pg_ctl' -D '$data' status" >/dev/null 2>&1; then
    su postgres -s /bin/sh -c "'$PG_BIN/pg_ctl' -D '$data' -l '$data/server.log' -w start" >/dev/null
  fi
  local psql=("$PG_BIN/psql" -h "$data" -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 -qtA)
  if [ "$(su postgres -s /bin/sh -c "$(printf '%q ' "${psql[@]}") -c \"select 1 from pg_roles where rolname='ferry'\"")" != 1 ]; then
    su postgres -s /bin/sh -c "$(printf '%q ' "${psql[@]}") -c \"create role ferry login createdb password '$FERRY_PG_PASSWORD'\""
    su postgres -s /bin/sh -c "$(printf '%q ' "${psql[@]}") -c 'create database ferry owner ferry'"
  fi
}
postgres_stop() {
  local data
  data=$(postgres_data)
  [ -f "$data/postmaster.pid" ] || return 0
  su postgres -s /bin/sh -c "'$PG_BIN/pg_ctl' -D '$data' -m fast -w stop" >/dev/null 2>&1 || true
}
postgres_status() { port_open 127.0.0.1 "$PG_PORT"; }

# --- Temporal dev server with its UI and Ferry's search attributes ---------------------------------
temporal_start() {
  mkdir -p "$FERRY_HOME/temporal"
  local args=() a
  for a in "${SEARCH_ATTRIBUTES[@]}"; do args+=(--search-attribute "$a=Keyword"); done
  start_bg temporal "$VENV/bin/temporal" server start-dev \
    --ip 127.0.0.1 --port "$TEMPORAL_PORT" --ui-ip 127.0.0.1 --ui-port "$TEMPORAL_UI_PORT" \
    --db-filename "$FERRY_HOME/temporal/temporal.db" --log-level warn --ui-disable-news-fetch "${args[@]}"
  wait_port 127.0.0.1 "$TEMPORAL_PORT" "Temporal" 60
  wait_port 127.0.0.1 "$TEMPORAL_UI_PORT" "Temporal UI" 60
}
temporal_stop() { stop_bg temporal; }
temporal_status() { port_open 127.0.0.1 "$TEMPORAL_PORT"; }

# --- SeaweedFS: the lab's S3 server, with its own credentials --------------------------------------
seaweedfs_start() {
  local dir="$FERRY_HOME/seaweedfs"
  mkdir -p "$dir/data"
  umask 077
  cat > "$dir/s3.json" <<JSON
{"identities":[{"name":"ferry","credentials":[{"accessKey":"$FERRY_S3_ACCESS_KEY","secretKey":"$FERRY_S3_SECRET_KEY"}],
 "actions":["Admin","Read","Write","List","Tagging"]}]}
JSON
  umask 022
  # Every bucket is a SeaweedFS collection, which by default grows 7 volumes at once: the tests' many small buckets
  # would exhaust the volume count. One volume at a time, and a generous count, keep the lab usable run after run.
  printf '[master.volume_growth]\ncopy_1 = 1\ncopy_2 = 1\ncopy_3 = 1\ncopy_other = 1\n' > "$dir/master.toml"
  start_bg seaweedfs env --chdir="$dir" "$VENV/bin/weed" server -ip=127.0.0.1 -ip.bind=127.0.0.1 -dir="$dir/data" \
    -master.port=9333 -volume.port=9340 -volume.max=1000 -master.volumeSizeLimitMB=256 \
    -filer -filer.port=8888 -s3 -s3.port="$S3_PORT" -s3.config="$dir/s3.json"
  wait_port 127.0.0.1 "$S3_PORT" "SeaweedFS S3" 90
}
seaweedfs_stop() { stop_bg seaweedfs; }
seaweedfs_status() { port_open 127.0.0.1 "$S3_PORT"; }

# --- Simulated hypervisor hosts: one sshd each ----------------------------------------------------
lab_hosts() { grep -v '^#' "$FERRY_ROOT/lab/hosts.txt" | awk 'NF'; }

# Ferry logs in to the lab hosts as ferry-lab: uid 0 like root, but with /bin/sh as its shell, so commands run
# without root's interactive dotfiles (a developer's ~/.bashrc, pyenv hooks and the like).
LAB_HOST_USER=ferry-lab
lab_host_user() {
  id -u "$LAB_HOST_USER" >/dev/null 2>&1 ||
    useradd -o -u 0 -g 0 -M -d "/var/lib/$LAB_HOST_USER" -s /bin/sh -c 'Ferry lab hosts' "$LAB_HOST_USER"
  # No password, but not locked (sshd refuses locked accounts even for keys).
  usermod -p '*' "$LAB_HOST_USER"
  mkdir -p "/var/lib/$LAB_HOST_USER"
}

hosts_start() {
  mkdir -p /run/sshd
  lab_host_user
  local name addr port zone pod cluster hv pool dir
  while read -r name addr port zone pod cluster hv pool; do
    dir="$FERRY_HOME/hosts/$name"
    mkdir -p "$dir"
    [ -f "$dir/ssh_host_ed25519_key" ] || ssh-keygen -q -t ed25519 -N '' -C "$name" -f "$dir/ssh_host_ed25519_key"
    [ "$pool" = - ] || mkdir -p "$FERRY_HOME/pools/$pool"
    local path_line=""
    # The bare host's logins get a PATH with the basic tools but without qemu-img: a host missing its hypervisor tools.
    if [ "$name" = bare-1 ]; then
      path_line="SetEnv PATH=$dir/bin"
      mkdir -p "$dir/bin"
      local tool
      for tool in sh df curl cat test stat rm mv mkdir; do ln -sfn "$(command -v "$tool")" "$dir/bin/$tool"; done
    fi
    cat > "$dir/sshd_config" <<CONF
ListenAddress $addr:$port
HostKey $dir/ssh_host_ed25519_key
PidFile $dir/sshd.pid
AuthorizedKeysFile $FERRY_HOME/keys/ferry_ed25519.pub
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
MaxStartups 50:30:100
MaxSessions 50
Subsystem sftp internal-sftp
$path_line
CONF
    if ! pid_alive "$dir/sshd.pid"; then
      /usr/sbin/sshd -f "$dir/sshd_config" -E "$LOG_DIR/host-$name.log"
    fi
  done < <(lab_hosts)
  while read -r name addr port _; do wait_port "$addr" "$port" "sshd of $name" 20; done < <(lab_hosts)
}
hosts_stop() {
  local name
  while read -r name _; do
    local pidfile="$FERRY_HOME/hosts/$name/sshd.pid"
    pid_alive "$pidfile" && kill "$(cat "$pidfile")" 2>/dev/null
    rm -f "$pidfile"
  done < <(lab_hosts)
}
hosts_status() { local n=0 name addr port; while read -r name addr port _; do port_open "$addr" "$port" && n=$((n+1)); done < <(lab_hosts); [ "$n" -gt 0 ]; }

# --- HTTP server with the sample images ------------------------------------------------------------
images_start() {
  "$FERRY_ROOT/lab/make-sample-images.sh" "$FERRY_HOME/images"
  # A server left from a lab that served on another address moves to this one.
  if pid_alive "$RUN_DIR/images.pid" && ! port_open "$IMAGES_ADDRESS" "$IMAGES_PORT"; then stop_bg images; fi
  start_bg images python3 -m http.server "$IMAGES_PORT" --bind "$IMAGES_ADDRESS" --directory "$FERRY_HOME/images"
  wait_port "$IMAGES_ADDRESS" "$IMAGES_PORT" "image server" 20
}
images_stop() { stop_bg images; }
images_status() { port_open "$IMAGES_ADDRESS" "$IMAGES_PORT"; }

# --- Ferry itself: the workers and the API, each under lab/supervise.sh -----------------------------------
# Each runs as `supervise.sh` (pid in run/<name>.pid: what `down` stops) over the process itself (pid in
# run/proc/<name>.pid: what a crash test kills); a process that dies is restarted within seconds, with no command.
# FERRY_WORKERS (default 1) workers share the task queue: worker, worker-2, worker-3, ... (logs log/<name>.log).
FERRY_WORKERS=${FERRY_WORKERS:-1}
worker_name() { if [ "$1" = 1 ]; then echo worker; else echo "worker-$1"; fi; }
# Worker i answers /healthz and /readyz on WORKER_PROBE_BASE_PORT + i - 1 (the first ten; the rest get no port).
worker_probe_port() { (($1 <= 10)) && echo $((WORKER_PROBE_BASE_PORT + $1 - 1)); }

# One Ferry process (a .ts entry point) under the supervisor; node runs the TypeScript itself (one process, no
# tsx wrapper in between), so the process in run/proc/ is the one doing the work.
start_supervised() { # name, entry point, [VAR=value ...]
  mkdir -p "$RUN_DIR/proc"
  start_bg "$1" env --chdir="$FERRY_ROOT" "${@:3}" "$FERRY_ROOT/lab/supervise.sh" "$RUN_DIR/proc/$1.pid" \
    node --import tsx "$FERRY_ROOT/$2"
}

ferry_start() {
  [[ $FERRY_WORKERS =~ ^[1-9][0-9]?$ ]] || die "FERRY_WORKERS must be a number from 1 to 99, not '$FERRY_WORKERS'"
  local i
  local probe
  for ((i = 1; i <= FERRY_WORKERS; i++)); do
    probe=$(worker_probe_port "$i" || true)
    start_supervised "$(worker_name "$i")" workers/worker.ts ${probe:+FERRY_WORKER_HEALTH_PORT=$probe}
  done
  start_supervised api api/server.ts
  wait_port 127.0.0.1 "$API_PORT" "Ferry API" 60
}
ferry_stop() {
  stop_bg api
  # Every worker there is, not only FERRY_WORKERS of them: a smaller count must not leave the others running.
  local f name
  for f in "$RUN_DIR"/worker.pid "$RUN_DIR"/worker-*.pid; do
    [ -f "$f" ] || continue
    name=$(basename "$f" .pid)
    stop_bg "$name"
    rm -f "$RUN_DIR/proc/$name.pid"
  done
}
ferry_status() {
  port_open 127.0.0.1 "$API_PORT" && pid_alive "$RUN_DIR/worker.pid"
}
# Live workers (for status): their supervisors' pidfiles.
ferry_workers() {
  local n=0 f
  for f in "$RUN_DIR"/worker.pid "$RUN_DIR"/worker-*.pid; do pid_alive "$f" && n=$((n + 1)); done
  echo "$n"
}

LAB_SERVICES=(postgres temporal seaweedfs swift hosts images)
