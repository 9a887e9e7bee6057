#!/usr/bin/env bash
# Instructions a typed in-process call costs, counted by callgrind (repeatable where wall time
# is not): the difference between runs of N and 3N calls, per call, for typed calls and for
# direct calls of the same function; the difference of the two is what the SDK adds.
#
#   ./scripts/callgrind-calls.sh          # N = 1000
#   N=500 ./scripts/callgrind-calls.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install valgrind)"; exit 1; }
n=${N:-1000}
cargo build --release -q -p endpoint-bench --bin bench-app
app="${CARGO_TARGET_DIR:-target}/release/bench-app"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# Instructions executed by `bench-app calls <count> [--direct]`.
count() {
  valgrind --tool=callgrind --callgrind-out-file="$out/cg" "$app" calls "$@" 2>"$out/log" >/dev/null
  grep -E '^(summary|totals):' "$out/cg" | head -1 | awk '{print $2}'
}

per_call() {
  local small large
  small=$(count "$n" "$@")
  large=$(count $((3 * n)) "$@")
  echo $(((large - small) / (2 * n)))
}

typed=$(per_call)
direct=$(per_call --direct)
echo "instructions per call (callgrind, $n and $((3 * n)) calls):"
echo "  direct call of the function: $direct"
echo "  typed in-process call:       $typed"
echo "  added by the SDK:            $((typed - direct))"

# The same typed call with OpenTelemetry on: each job's span built, queued, encoded as protobuf
# and sent (in batches, by the exporter's thread) to a receiver that accepts everything.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 - "$port" <<'PY' &
import http.server, sys
class Ok(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(200); self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0"); self.end_headers()
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Ok).serve_forever()
PY
receiver=$!
trap 'kill $receiver 2>/dev/null; rm -rf "$out"' EXIT
traced=$(OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$port" OTEL_BSP_MAX_QUEUE_SIZE=100000 \
  per_call)
echo "  typed call, spans exported:  $traced ($((traced - typed)) more)"
