#!/usr/bin/env bash
# Packs PushGuard as npm would publish it, installs the tarball into an empty temporary prefix
# (`npm i -g --prefix`) and runs the installed `pushguard` from an empty folder: --help,
# local --help, replay on the recorded registry traces, and `local` up to its ready line.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

cd "$repo"
npm pack --silent --pack-destination "$tmp" >/dev/null
tarball="$(ls "$tmp"/pushguard-*.tgz)"
npm install --global --prefix "$tmp/prefix" --no-audit --no-fund "$tarball"
pg="$tmp/prefix/bin/pushguard"
mkdir "$tmp/work"
cd "$tmp/work"

"$pg" --help | grep -q 'Usage: pushguard'
"$pg" local --help | grep -q -- '--audit-dir'
traces="$repo/test/fixtures/registry-traces"
cat "$traces/e1-push.s3events.ndjson" "$traces/e2-lose-manifest-data.s3events.ndjson" \
  "$traces/e3-repush-stale.s3events.ndjson" >stale.ndjson
"$pg" replay --json stale.ndjson | tee replay.out
grep -q '"kind":"manifest-data-missing".*"verified":true' replay.out
"$pg" replay "$traces/a-normal-push.s3events.ndjson" | grep -q '^no findings'

# `local` needs a Redis: REDIS_URL, 127.0.0.1:6379, else it starts a redis-server itself.
"$pg" local --json --s3-port 0 --webhook-port 0 >local.out 2>local.err &
pid=$!
for _ in $(seq 1 120); do
  if grep -q '"event":"ready"' local.out || ! kill -0 "$pid" 2>/dev/null; then break; fi
  sleep 0.5
done
if ! grep -q '"event":"ready"' local.out; then
  echo "installed pushguard local did not get ready:" >&2
  cat local.err >&2
  kill "$pid" 2>/dev/null || true
  exit 1
fi
kill -TERM "$pid"
wait "$pid"
test -f .pushguard/.gitignore
echo "package smoke test passed: $(basename "$tarball") installs and runs"
