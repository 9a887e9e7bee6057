"""The baseline echo of the /runsync benchmark: `python echo.py --rp_serve_api ...` serves it on
the SDK's local test API server (the official SDK's `handler.py --rp_serve_api`)."""
import runpod

import _bench


def handler(job):
    return job["input"]


if __name__ == "__main__":
    _bench.exit_with_parent()
    runpod.serverless.start({"handler": handler})
