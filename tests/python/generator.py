"""A generator handler: yields input["n"] chunks, input["pause"] seconds apart; the result is
the aggregated chunks (return_aggregate_stream). input["mode"]: "raise" raises after the first
chunk; "yield_error" yields {"error": ...} as the second chunk."""
import time

import runpod

import _testkit


def handler(job):
    inp = job["input"]
    for i in range(inp.get("n", 3)):
        if i == 1 and inp.get("mode") == "raise":
            raise RuntimeError("generator failed mid-stream")
        if i == 1 and inp.get("mode") == "yield_error":
            yield {"error": "chunk-level error"}
            return
        yield {"i": i, "text": f"part-{i}"}
        time.sleep(inp.get("pause", 0.2))


if __name__ == "__main__":
    _testkit.exit_with_parent()
    runpod.serverless.start({"handler": handler, "return_aggregate_stream": True})
