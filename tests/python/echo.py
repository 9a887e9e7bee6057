"""Echo: returns the job's input unchanged. An async handler with concurrency_modifier -> 8, so
that the tests' many short jobs do not each wait out the SDK's 1 s pause of a full worker."""
import runpod

import _testkit


async def handler(job):
    return job["input"]


def concurrency_modifier(current):
    return 8


if __name__ == "__main__":
    _testkit.exit_with_parent()
    runpod.serverless.start({"handler": handler, "concurrency_modifier": concurrency_modifier})
