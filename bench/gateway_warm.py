"""Warm GET /PRD/addfive?num=5 through the guide's non-proxy API vs a raw in-process ASGI app.

    .venv/bin/python bench/gateway_warm.py [--seconds 5] [--rounds 3] [--connections 1,8,64]

The API is built with boto3 exactly as the guide's console steps do (examples/addfive/build_api.py):
a GET method, a non-proxy Lambda integration with the mapping template, stage PRD. Goal (issue 11):
ratio >= 0.5 and p50 under 0.3 ms at 1 connection, zero errors at 64.
"""

from __future__ import annotations

import sys

from harness import ROOT, Scenario, boto, create_addfive, run

sys.path.insert(0, str(ROOT / "examples" / "addfive"))
from build_api import build_api  # noqa: E402


def setup(base: str) -> None:
    build_api(boto(base, "apigateway"), boto(base), create_addfive(base))


if __name__ == "__main__":
    run(Scenario(title="warm GET /PRD/addfive?num=5 (non-proxy, mapping template)",
                 ours_path="/PRD/addfive?num=5", raw_path="/PRD/addfive?num=5", raw_app="raw_gateway_app:app",
                 setup=setup))
