#!/usr/bin/env bash
# The one test command, for people and CI: installs what the tests need when it is missing,
# then runs the whole build with every test (unit tests, then integration tests against the
# fat jars). Works on a fresh Debian/Ubuntu machine that has only JDK 17+ and Maven.
#
# usage: scripts/test.sh [extra mvn arguments...]    e.g. scripts/test.sh -o (offline)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NODE_DIR="$ROOT/standalone/src/test/node"

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

# Node.js runs the third-party SSE client (npm "eventsource") of NodeEventSourceIT.
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

# The npm packages pinned in standalone/src/test/node/package-lock.json.
ensure_npm_deps() {
  local stamp="$NODE_DIR/node_modules/.package-lock.json"
  if [ -f "$stamp" ] && [ -f "$NODE_DIR/package-lock.json" ] \
    && [ "$stamp" -nt "$NODE_DIR/package-lock.json" ] && [ "$stamp" -nt "$NODE_DIR/package.json" ]; then
    say "npm packages in ${NODE_DIR#"$ROOT"/} are up to date"
  elif [ -f "$NODE_DIR/package-lock.json" ]; then
    say "npm ci in ${NODE_DIR#"$ROOT"/}"
    (cd "$NODE_DIR" && npm ci --no-audit --no-fund --loglevel=error)
  else
    say "npm install in ${NODE_DIR#"$ROOT"/} (no lockfile yet)"
    (cd "$NODE_DIR" && npm install --no-audit --no-fund --loglevel=error)
  fi
}

run_maven() {
  say "mvn -B verify $*"
  (cd "$ROOT" && mvn -B verify "$@")
}

main() {
  ensure_java_and_maven
  ensure_node
  ensure_npm_deps
  run_maven "$@"
}

main "$@"
