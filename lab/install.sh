# Installs what the lab and Ferry need, idempotently and with pinned versions. Sourced by ./ferry.

APT_PACKAGES=(postgresql openssh-server qemu-utils iproute2 curl ca-certificates)
PY_REQUIREMENTS="$FERRY_ROOT/lab/requirements.txt"

install_apt() { # [packages...], by default all of APT_PACKAGES
  local wanted=("$@") missing=() p
  [ $# -gt 0 ] || wanted=("${APT_PACKAGES[@]}")
  for p in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing apt packages: ${missing[*]}"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

install_python_tools() {
  local stamp="$VENV/.requirements.sha256" want
  want=$(sha256sum "$PY_REQUIREMENTS" | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return 0; fi
  say "installing Python tools (temporal, temporal-test-server, seaweedfs, cs) into $VENV"
  mkdir -p "$FERRY_TOOLS"
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r "$PY_REQUIREMENTS"
  echo "$want" > "$stamp"
}

install_node_modules() {
  local stamp="$FERRY_ROOT/node_modules/.package-lock.sha256" want
  want=$(sha256sum "$FERRY_ROOT/package-lock.json" | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return 0; fi
  say "installing node modules (npm ci)"
  (cd "$FERRY_ROOT" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  echo "$want" > "$stamp"
}

install_all() {
  command -v node >/dev/null || die "Node.js 20 is required (it ships with the machine image)"
  install_apt
  swift_install_packages
  install_python_tools
  install_node_modules
}

# What `./ferry test --fast` needs, and no lab service: node modules, the Python tools (the time-skipping test server,
# cs for the signature test) and the qemu-img the format tests run.
install_fast() {
  command -v node >/dev/null || die "Node.js 20 is required (it ships with the machine image)"
  install_apt qemu-utils
  install_python_tools
  install_node_modules
}
