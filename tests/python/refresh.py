"""Config refresh_worker: after its first job the worker posts the result with "stopPod": true
and exits (the platform would replace it with a fresh one)."""
import runpod

import _testkit


def handler(job):
    return job["input"]


if __name__ == "__main__":
    _testkit.exit_with_parent()
    runpod.serverless.start({"handler": handler, "refresh_worker": True})
