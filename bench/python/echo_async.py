"""The baseline echo of the worker benchmark: an async handler whose concurrency_modifier returns
$CONCURRENCY (1 or 16), run as a worker through the platform's RUNPOD_WEBHOOK_* variables."""
import os

import runpod

import _bench

CONCURRENCY = int(os.environ.get("CONCURRENCY", "1"))


async def handler(job):
    return job["input"]


def concurrency_modifier(current):
    return CONCURRENCY


if __name__ == "__main__":
    _bench.exit_with_parent()
    runpod.serverless.start({"handler": handler, "concurrency_modifier": concurrency_modifier})
