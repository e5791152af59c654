#!/usr/bin/env bash
# The one test command, for people and CI: installs what the tests need when it is missing,
# then runs the whole build with every test (unit tests, then integration tests against the
# fat jars). Works on a fresh Debian/Ubuntu machine that has only JDK 17+ and Maven.
#
# usage: scripts/test.sh [extra mvn arguments...]    e.g. scripts/test.sh -o (offline)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NODE_DIR="$ROOT/standalone/src/test/node"
CLIENT_DIR="$ROOT/clients/js"

say() { printf '[test.sh] %s\n' "$*"; }

# Runs a command as root: directly when we are root, else through sudo.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    say "need root to run: $* (no sudo available)" >&2
    return 1
  fi
}

apt_updated=0
apt_install() {
  if ! command -v apt-get >/dev/null 2>&1; then
    say "cannot install $* automatically: apt-get not found; install it yourself and re-run" >&2
    return 1
  fi
  if [ "$apt_updated" -eq 0 ]; then
    say "apt-get update"
    as_root apt-get update -qq
    apt_updated=1
  fi
  say "apt-get install -y $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# The build itself: a JDK 17+ and Maven (normally already there).
ensure_java_and_maven() {
  command -v java >/dev/null 2>&1 || { say "java not found"; apt_install openjdk-17-jdk-headless; }
  command -v mvn >/dev/null 2>&1 || { say "mvn not found"; apt_install maven; }
}

# Node.js runs the third-party SSE client (npm "eventsource") of NodeEventSourceIT and the
# browser driver (npm "playwright-core") of DashboardBrowserIT.
ensure_node() {
  if command -v node >/dev/null 2>&1; then
    say "node $(node --version) found"
  else
    say "node not found: installing nodejs and npm"
    apt_install nodejs npm
  fi
  if ! command -v npm >/dev/null 2>&1; then
    say "npm not found: installing npm"
    apt_install npm
  fi
  for tool in node npm; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      say "$tool is still missing after the install: install Node.js 18+ and npm, then re-run" >&2
      exit 1
    fi
  done
  local major
  major="$(node -p 'process.versions.node.split(".")[0]')"
  if [ "$major" -lt 18 ]; then
    say "node $(node --version) is too old: the test client needs Node.js 18+ (Debian 12 ships 18)" >&2
    exit 1
  fi
}

# The npm packages pinned in a package-lock.json: standalone/src/test/node (the third-party
# clients and the browser driver of the ITs) and clients/js (the client package's devDependencies:
# typescript and react for its tests, run by ClientPackageTest).
ensure_npm_deps() {
  local dir="$1"
  local stamp="$dir/node_modules/.package-lock.json"
  if [ -f "$stamp" ] && [ -f "$dir/package-lock.json" ] \
    && [ "$stamp" -nt "$dir/package-lock.json" ] && [ "$stamp" -nt "$dir/package.json" ]; then
    say "npm packages in ${dir#"$ROOT"/} are up to date"
  elif [ -f "$dir/package-lock.json" ]; then
    say "npm ci in ${dir#"$ROOT"/}"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  else
    say "npm install in ${dir#"$ROOT"/} (no lockfile yet)"
    (cd "$dir" && npm install --no-audit --no-fund --loglevel=error)
  fi
}

# DashboardBrowserIT drives the admin dashboard in a real headless Chromium (through the npm
# playwright-core package, which downloads no browser): Debian's chromium, or CHROMIUM_PATH.
ensure_chromium() {
  local chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
  if [ -x "$chromium" ]; then
    say "chromium found at $chromium"
    return
  fi
  if [ -n "${CHROMIUM_PATH:-}" ]; then
    say "CHROMIUM_PATH=$CHROMIUM_PATH is not an executable: fix it or unset it to install Debian's chromium" >&2
    exit 1
  fi
  say "chromium not found: installing chromium"
  apt_install chromium
  if [ ! -x /usr/bin/chromium ]; then
    say "/usr/bin/chromium is still missing after the install: install Chromium and set CHROMIUM_PATH, then re-run" >&2
    exit 1
  fi
}

# Redis and PostgreSQL back the replay-store tests. The ones already running on the machine are
# used (127.0.0.1:6379, 127.0.0.1:5432 with trust auth, database "test"); on a machine without
# them, they are installed from Debian's packages and started here.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {
  local port=$1 name=$2
  for _ in $(seq 1 60); do
    port_open "$port" && return 0
    sleep 0.5
  done
  say "$name did not come up on 127.0.0.1:$port" >&2
  exit 1
}

ensure_redis() {
  if port_open 6379; then
    say "redis found on 127.0.0.1:6379"
    return
  fi
  command -v redis-server >/dev/null 2>&1 || apt_install redis-server
  say "starting redis-server on 127.0.0.1:6379"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
  wait_port 6379 redis
}

ensure_postgres() {
  if ! port_open 5432; then
    if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
      apt_install postgresql
    fi
    local version
    version="$(ls /etc/postgresql | sort -V | tail -n 1)"
    local hba="/etc/postgresql/$version/main/pg_hba.conf"
    if ! grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then
      say "allowing trust auth for 127.0.0.1 in $hba (a test machine's local server)"
      as_root sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
    fi
    say "starting PostgreSQL $version"
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || as_root pg_ctlcluster "$version" main start
    wait_port 5432 postgresql
  else
    say "postgresql found on 127.0.0.1:5432"
  fi
  command -v psql >/dev/null 2>&1 || apt_install postgresql-client
  for _ in $(seq 1 20); do
    psql -h 127.0.0.1 -U postgres -d postgres -tAc 'select 1' >/dev/null 2>&1 && break
    sleep 0.5
  done
  if ! psql -h 127.0.0.1 -U postgres -d postgres -tAc "select 1 from pg_database where datname = 'test'" | grep -q 1; then
    say "creating database test"
    psql -h 127.0.0.1 -U postgres -d postgres -qc 'create database test'
  fi
}

# The fault tests start (and kill) private servers of their own, so the shared ones stay up:
# they need the server binaries even where Redis and PostgreSQL already run elsewhere.
ensure_server_binaries() {
  if ! command -v redis-server >/dev/null 2>&1; then
    say "redis-server binary not found (the fault tests start their own): installing redis-server"
    apt_install redis-server
  fi
  if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    say "PostgreSQL server binaries not found (the fault tests start their own): installing postgresql"
    apt_install postgresql
  fi
}

# NginxProxyIT and NginxProxyClientsIT run docker/nginx/herald.conf with Debian's nginx (/usr/sbin/nginx) in front of
# two gateways; each test class starts and stops its own instance on loopback, so only the binary is
# needed (the distribution's service is not started here).
ensure_nginx() {
  if [ -x /usr/sbin/nginx ]; then
    say "nginx found at /usr/sbin/nginx"
    return
  fi
  say "nginx not found: installing nginx"
  apt_install nginx
  if [ ! -x /usr/sbin/nginx ]; then
    say "/usr/sbin/nginx is still missing after the install: install Debian's nginx, then re-run" >&2
    exit 1
  fi
}

# The benchmark's smoke run (bench/, BenchSmokeTest) measures nginx + Nchan beside Herald, so the
# comparison cannot rot: Debian's libnginx-mod-nchan.
ensure_nchan() {
  if [ -x /usr/sbin/nginx ] && ls /usr/lib/nginx/modules/ngx_nchan_module.so >/dev/null 2>&1; then
    say "nginx with the nchan module found"
    return
  fi
  say "nchan module not found: installing libnginx-mod-nchan (for the benchmark's peer)"
  apt_install libnginx-mod-nchan
  if ! ls /usr/lib/nginx/modules/ngx_nchan_module.so >/dev/null 2>&1; then
    say "the nchan module is still missing after the install: install libnginx-mod-nchan, then re-run" >&2
    exit 1
  fi
}

# DocsCommandsIT (and Docs*CommandsIT) run the docs' shell blocks with bash, curl and openssl, and migration.md's Python
# publish() with python3 (standard library only).
ensure_docs_tools() {
  local missing=()
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  command -v openssl >/dev/null 2>&1 || missing+=(openssl)
  command -v python3 >/dev/null 2>&1 || missing+=(python3)
  if [ "${#missing[@]}" -eq 0 ]; then
    say "curl, openssl and python3 found"
    return
  fi
  say "not found: ${missing[*]}: installing them (the docs' commands run by Docs*CommandsIT)"
  apt_install "${missing[@]}"
}

# AlertRulesIT checks docker/herald-alerts.yml with promtool (Debian's prometheus package ships
# it). Only the tool is wanted: no recommended exporters, and where apt starts the package's
# service (a systemd machine) it is stopped again, since it would take 9090, Herald's admin port.
ensure_promtool() {
  if command -v promtool >/dev/null 2>&1; then
    say "promtool found"
    return
  fi
  say "promtool not found: installing prometheus (for its promtool)"
  apt_install --no-install-recommends prometheus || say "prometheus not installed: AlertRulesIT will fail"
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet prometheus 2>/dev/null; then
    say "stopping the prometheus service the package started (it listens on 9090)"
    as_root systemctl disable --now prometheus >/dev/null 2>&1 || true
  fi
  # Without systemd the package's init script may have started it all the same.
  if pgrep -x prometheus >/dev/null 2>&1; then
    say "stopping the prometheus the package started (it listens on 9090)"
    as_root pkill -x prometheus || true
  fi
}

# DeadPeerTest makes a loopback client address vanish with tc (a clsact filter on lo) and reads
# the server's TCP connections with ss: both from iproute2. It needs root (CAP_NET_ADMIN) too;
# as another user it fails under HERALD_REQUIRE_TOOLS=1.
have_tool() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ]; }

ensure_iproute2() {
  if have_tool tc && have_tool ip && have_tool ss; then
    say "tc, ip and ss (iproute2) found"
    return
  fi
  say "tc, ip or ss not found: installing iproute2 (for DeadPeerTest)"
  apt_install iproute2
}

run_maven() {
  say "mvn -B verify $*"
  (cd "$ROOT" && mvn -B verify "$@")
}

main() {
  ensure_java_and_maven
  ensure_node
  ensure_npm_deps "$NODE_DIR"
  ensure_npm_deps "$CLIENT_DIR"
  ensure_chromium
  ensure_redis
  ensure_postgres
  ensure_server_binaries
  ensure_nginx
  ensure_nchan
  ensure_docs_tools
  ensure_promtool
  ensure_iproute2
  # Everything the tests run is installed above: a test whose tool is missing fails, never skips.
  export HERALD_REQUIRE_TOOLS="${HERALD_REQUIRE_TOOLS:-1}"
  run_maven "$@"
}

main "$@"
