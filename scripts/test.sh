#!/usr/bin/env bash
# Herald's test command, the same for a new user and for CI: installs what the tests need when
# it is missing, then runs every test (unit tests, then integration tests against the fat jars).
# Extra arguments go to Maven, e.g. scripts/test.sh -pl gateway-verticle -am
set -euo pipefail

cd "$(dirname "$0")/.."

say() { printf 'test.sh: %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_updated=0
apt_install() {
  if [ "$apt_updated" -eq 0 ]; then
    say "apt-get update"
    as_root apt-get update -qq
    apt_updated=1
  fi
  say "apt-get install $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

ensure_java_and_maven() {
  command -v java >/dev/null || apt_install openjdk-17-jdk-headless
  command -v mvn >/dev/null || apt_install maven
}

# Node.js runs the third-party SSE client (npm "eventsource") in the integration tests.
ensure_node() {
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    apt_install nodejs npm
  fi
  say "node $(node --version)"
}

ensure_npm_deps() {
  local dir=standalone/src/test/node
  say "npm ci in $dir"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
}

run_maven() {
  say "mvn -B verify $*"
  mvn -B verify "$@"
}

ensure_java_and_maven
ensure_node
ensure_npm_deps
run_maven "$@"
