"""The official Python client (runpod 1.12) reading a job's stream from a Runpod-compatible
server: submits with `Endpoint.run`, then prints each chunk `job.stream()` yields, one JSON
line each, as it arrives.

usage: stream_client.py <base URL up to /v2> <endpoint> <input as JSON>
"""

import json
import sys

import runpod

base, endpoint, payload = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
runpod.api_key = "local"
runpod.endpoint_url_base = base
job = runpod.Endpoint(endpoint).run(payload)
print(json.dumps({"id": job.job_id}), flush=True)
for chunk in job.stream():
    print(json.dumps({"chunk": chunk}), flush=True)
print(json.dumps({"status": job.status()}), flush=True)
