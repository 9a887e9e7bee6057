"""Failures, chosen by the input's "mode":
  raise         -> raise ValueError(input["message"])
  error         -> return {"error": input["message"]}
  error_partial -> return {"error": input["message"], "partial": 1}
  error_dict    -> return {"error": {"code": 42, "msg": input["message"]}}
  anything else -> return {"ok": True} (the worker goes on after failures)"""
import runpod

import _testkit


def handler(job):
    inp = job["input"]
    mode, message = inp.get("mode"), inp.get("message", "")
    if mode == "raise":
        raise ValueError(message)
    if mode == "error":
        return {"error": message}
    if mode == "error_partial":
        return {"error": message, "partial": 1}
    if mode == "error_dict":
        return {"error": {"code": 42, "msg": message}}
    return {"ok": True}


if __name__ == "__main__":
    _testkit.exit_with_parent()
    runpod.serverless.start({"handler": handler})
