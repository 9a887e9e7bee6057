#!/usr/bin/env bash
# Writes endpoint-sdk/layout/worker.ld: the functions a production worker runs, from a profile of
# one, as the linker script endpoint-sdk's build script hands to the final link of a
# `worker-only` build (see endpoint-sdk/build.rs). Run it after changing the worker, a
# dependency, or the toolchain; a function it misses only stays where the linker put it.
#
# The profile: the bench's echo application (bench/apps/endpoint-sdk-echo, built as an image
# builds it, without the layout, with its link's map) under callgrind, idle and then serving at
# concurrency 1 and 16, taking jobs from `bench-app dev --external`. scripts/worker-layout.py
# turns the functions it ran into the linker script (see there how): the idle worker's first,
# so that an idle worker's code is one block, then the serving worker's.
#
#   ./scripts/worker-layout.sh           # needs valgrind and python3
#   ./scripts/worker-layout.sh --again   # the script again from the last profile
#                                        # (kept in target/worker-layout)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out=$root/target/worker-layout
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT
worker="$out/endpoint-sdk-echo"
case "${1:-}" in
  "") again=false ;;
  --again) again=true ;;
  *) echo "usage: $0 [--again]   (--again: the script from the profile kept in $out)" >&2; exit 2 ;;
esac

if ! $again; then
command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install valgrind)"; exit 1; }
rm -rf "$out" && mkdir -p "$out"
cargo build --release -q -p endpoint-bench --bin bench-app
# Without the layout, with the link's map (which file gave each function): relinked even when
# cargo holds it up to date, since the map is written by the link.
touch bench/apps/endpoint-sdk-echo/src/main.rs
ENDPOINT_SDK_WORKER_LAYOUT=off cargo rustc --release -q --bin endpoint-sdk-echo \
  --manifest-path bench/apps/endpoint-sdk-echo/Cargo.toml --features endpoint-sdk/worker-only \
  --target-dir target/peers -- -C link-arg=-Wl,-Map="$out/map"
[ -s "$out/map" ] || { echo "the link wrote no map ($out/map)" >&2; exit 1; }
cp target/peers/release/endpoint-sdk-echo "$worker"

port=18931
base="http://127.0.0.1:$port"
target/release/bench-app dev --port "$port" --external echo-c1 --external echo-c16 \
  >"$out/dev.log" 2>&1 &
until curl -sf "$base/v2/echo-c1/health" >/dev/null 2>&1; do sleep 0.2; done

# submit ENDPOINT N: N jobs queued for the worker.
submit() {
  python3 - "$base" "$1" "$2" <<'PY'
import http.client, json, sys, urllib.parse
base, ep, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
u = urllib.parse.urlparse(base)
c = http.client.HTTPConnection(u.hostname, u.port)
for i in range(n):
    c.request("POST", f"/v2/{ep}/run", json.dumps({"input": {"n": i}}),
              {"content-type": "application/json"})
    c.getresponse().read()
PY
}

# profile NAME SERVER ENDPOINT CONCURRENCY SECONDS: the worker under callgrind, taking jobs
# from SERVER (a base URL).
profile() {
  local v2="$2/v2/$3"
  (cd "$out" && env -i PATH="$PATH" RUNPOD_POD_ID=layout RUNPOD_ENDPOINT_ID=layout \
    RUNPOD_WEBHOOK_GET_JOB="$v2/job-take/\$ID" \
    RUNPOD_WEBHOOK_POST_OUTPUT="$v2/job-done/\$RUNPOD_POD_ID/\$ID" \
    RUNPOD_WEBHOOK_PING="$v2/ping/\$RUNPOD_POD_ID" RUNPOD_PING_INTERVAL=1000 \
    RUNPOD_WORKER_CONCURRENCY="$4" ENDPOINT_NAME="$3" \
    timeout -s TERM "$5" valgrind --tool=callgrind --demangle=no \
    --callgrind-out-file="$out/cg-$1" "$worker" >"$out/$1.log" 2>&1) || true
}

profile idle "$base" echo-c1 1 8
# Idle again against a bare server (a take answers 204 after a second, anything else `{}`, with
# the headers other servers send: `Connection`, `Keep-Alive`, a ping's answer chunked), as the
# platform and other job servers answer, unlike `app dev`; then serving from it at 16 (the jobs
# POSTed to /jobs/N, then idle again).
python3 - 18932 <<'PY' &
import http.server, json, sys, threading, time
jobs = {"left": 0, "next": 0}
lock = threading.Lock()
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def reply(self, code, body=b"", chunked=False):
        self.send_response(code)
        self.send_header("Connection", "keep-alive")
        self.send_header("Keep-Alive", "timeout=60")
        if body:
            self.send_header("Content-Type", "application/json")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
            return
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def answer(self):
        n = int(self.headers.get("content-length") or 0)
        if n: self.rfile.read(n)
        if self.path.startswith("/jobs/"):
            with lock: jobs["left"] += int(self.path.split("/")[2])
            return self.reply(200, b"{}")
        if "/job-take" not in self.path:
            return self.reply(200, b"{}", chunked="/ping" in self.path)
        want = 1
        if "batch_size=" in self.path:
            want = int(self.path.split("batch_size=")[1].split("&")[0])
        with lock:
            k = min(want, jobs["left"]); jobs["left"] -= k
            ids = list(range(jobs["next"], jobs["next"] + k)); jobs["next"] += k
        if not ids:
            time.sleep(1)
            return self.reply(204)
        taken = [{"id": f"bare-{i}", "input": {"n": i}} for i in ids]
        body = taken if "job-take-batch" in self.path else taken[0]
        self.reply(200, json.dumps(body).encode())
    do_GET = do_POST = answer
class Quiet(http.server.ThreadingHTTPServer):
    def handle_error(self, *a): pass  # a worker stopped while its take was held
Quiet(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
sleep 1
bare="http://127.0.0.1:18932"
profile idle-bare "$bare" echo-c1 1 8
curl -sf -X POST "$bare/jobs/3000" >/dev/null
profile c16-bare "$bare" echo-c16 16 12
submit echo-c1 3000
profile c1 "$base" echo-c1 1 12
submit echo-c16 6000
profile c16 "$base" echo-c16 16 12

nm --defined-only "$worker" >"$out/nm"
fi

python3 scripts/worker-layout.py "$out" endpoint-sdk/layout/worker.ld
# The application again, with the new layout.
cargo build --release -q --manifest-path bench/apps/endpoint-sdk-echo/Cargo.toml \
  --features endpoint-sdk/worker-only --target-dir target/peers
