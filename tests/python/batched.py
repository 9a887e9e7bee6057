"""An async handler with concurrency_modifier -> 4 (the SDK then takes jobs in batches).
  {"op": "sleep", "secs": s}                 -> sleeps, returns {"start": t0, "end": t1} (epoch s)
  {"op": "wait_cancel", "marker": path, ...} -> sleeps "secs"; when the SDK cancels the task
                                                (job-stop), writes `path` and re-raises"""
import asyncio
import time

import runpod

import _testkit


async def handler(job):
    inp = job["input"]
    if inp.get("op") == "wait_cancel":
        try:
            await asyncio.sleep(inp.get("secs", 60))
        except asyncio.CancelledError:
            with open(inp["marker"], "w") as f:
                f.write(job["id"])
            raise
        return {"not_cancelled": True}
    start = time.time()
    await asyncio.sleep(inp.get("secs", 1.0))
    return {"start": start, "end": time.time()}


def concurrency_modifier(current):
    return 4


if __name__ == "__main__":
    _testkit.exit_with_parent()
    runpod.serverless.start({"handler": handler, "concurrency_modifier": concurrency_modifier})
