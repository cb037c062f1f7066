#!/usr/bin/env bash
# npm test: build, then the type check and the layer rules beside jest (they only read; jest leaves
# a core idle while it waits on terraform and child processes). Fails if any of the three fails.
set -u
cd "$(dirname "$0")/.."
npm run --silent build || exit 1
npx tsc --noEmit &
typecheck=$!
npm run --silent lint:layers &
layers=$!
npx jest "$@"
tests=$?
wait "$typecheck"
types=$?
wait "$layers"
rules=$?
[ "$types" -ne 0 ] && echo "npm test: the type check failed (above)" >&2
[ "$rules" -ne 0 ] && echo "npm test: the layer rules failed (above)" >&2
[ "$tests" -eq 0 ] && [ "$types" -eq 0 ] && [ "$rules" -eq 0 ]
