#!/usr/bin/env bash
# The trust page's tests: web/verify.js under Node's test runner (real AMD and
# simulated evidence, a live cinferd), then, where Debian's chromium is
# installed, the page itself in headless Chromium under the server's CSP.
set -uo pipefail
S=${CINFER_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
B=${CINFER_BIN:-$S/build}
export CINFER_SRC=$S CINFER_BIN=$B CINFER_VECTORS=${CINFER_VECTORS:-$S/../shared/vectors}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

if ! command -v node >/dev/null; then
  echo "FAIL: node is not installed (Debian package nodejs)"
  echo "0 passed, 1 failed"
  exit 1
fi

node --test --test-reporter=tap "$S/tests/web/verify.test.mjs" >"$T/tap" 2>&1
rc=$?
grep -E '^not ok|^# (Subtest|tests|pass|fail)' "$T/tap" | grep -v '^# Subtest' || true
[ $rc -ne 0 ] && grep -A30 '^not ok' "$T/tap" | head -120
pass=$(awk '/^# pass /{print $3}' "$T/tap"); fail=$(awk '/^# fail /{print $3}' "$T/tap")
pass=${pass:-0}; fail=${fail:-0}
if [ $rc -ne 0 ] && [ "$fail" -eq 0 ]; then fail=1; fi

browser=${CINFER_CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
if [ -n "$browser" ]; then
  if out=$(CINFER_CHROMIUM=$browser node "$S/tests/web/browser_smoke.mjs" 2>&1); then
    echo "$out"
    pass=$((pass + $(grep -c '^ok ' <<<"$out")))
  else
    echo "$out"
    pass=$((pass + $(grep -c '^ok ' <<<"$out")))
    fail=$((fail + $(grep -c '^not ok ' <<<"$out") ))
    [ "$(grep -c '^not ok ' <<<"$out")" -eq 0 ] && fail=$((fail + 1))
  fi
elif [ "${CINFER_REQUIRE_BROWSER:-0}" = 1 ]; then
  echo "FAIL: CINFER_REQUIRE_BROWSER=1 but chromium is not installed"
  fail=$((fail + 1))
else
  echo "note: chromium not installed; the in-browser smoke test did not run (apt-get install chromium)"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
