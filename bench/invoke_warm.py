"""Warm Invoke of the guide's `addfive`: Lambdalite vs a raw in-process ASGI app, in one run.

    .venv/bin/python bench/invoke_warm.py [--seconds 5] [--rounds 3] [--connections 1,8,64]

wrk (Debian's package; installed with apt-get when missing and running as root) POSTs
`{"num": "5"}` to /2015-03-31/functions/addfive/invocations on both servers (uvicorn, httptools,
uvloop, loopback). Goal (issue 10): ratio >= 0.5 at 1 connection, zero errors at 64.
"""

from __future__ import annotations

from harness import Scenario, create_addfive, run

PATH = "/2015-03-31/functions/addfive/invocations"
LUA = 'wrk.method = "POST"\nwrk.body = \'{"num": "5"}\'\nwrk.headers["Content-Type"] = "application/json"\n'


if __name__ == "__main__":
    run(Scenario(title="warm Invoke of addfive", ours_path=PATH, raw_path=PATH, raw_app="raw_invoke_app:app",
                 setup=create_addfive, lua=LUA))
