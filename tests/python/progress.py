"""progress_update: two updates input["pause"] seconds apart, a last one right before
returning (it may overtake the result on the wire), then the result."""
import time

import runpod

import _testkit


def handler(job):
    pause = job["input"].get("pause", 0.8)
    runpod.serverless.progress_update(job, "step 1/2")
    time.sleep(pause)
    runpod.serverless.progress_update(job, {"pct": 50})
    time.sleep(pause)
    runpod.serverless.progress_update(job, "almost done")
    return {"done": True}


if __name__ == "__main__":
    _testkit.exit_with_parent()
    runpod.serverless.start({"handler": handler})
