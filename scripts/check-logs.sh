#!/usr/bin/env bash
# After the tests: every log the suite's processes wrote (target/tmp/logs: the workers, app dev,
# the Python worker, ...; see `log_path` in tests/support) and the test run's own output must
# hold no secret. Each secret the tests use (API keys, tokens) carries the marker SUITE-SECRET,
# so one search finds any of them.
set -euo pipefail
cd "$(dirname "$0")/.."

dir=target/tmp/logs
if [[ ! -d "$dir" ]]; then
  echo "no logs in $dir: did the tests run?" >&2
  exit 1
fi
files=$(find "$dir" -type f | wc -l)
lines=$(find "$dir" -type f -exec cat {} + | wc -l)
if grep -rn --binary-files=text "SUITE-SECRET" "$dir"; then
  echo "a secret reached a log (the lines above): find what logged it and redact it" >&2
  exit 1
fi
echo "== logs: $files files, $lines lines, no secret in any"
