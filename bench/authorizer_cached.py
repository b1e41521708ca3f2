"""What a cached Lambda authorizer decision costs: warm GET /open vs GET /authorized of one REST API,
both proxy integrations of the same function, the second behind a TOKEN authorizer whose decision is
cached (TTL 300 s; warmed before measuring), each sent by wrk at c=1 with the same request headers
(the token goes to /open too, where nothing reads it: the difference is the decision, not the header).

    .venv/bin/python bench/authorizer_cached.py [--seconds 4] [--rounds 5] [--conns 1]

Goal (issue 25): a cached decision adds at most 5% to a warm gateway call at c=1. The rounds
alternate between the two paths (at least 5), which goes first flips every round, and the medians are
compared.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import zipfile
from io import BytesIO
from pathlib import Path

from harness import BIN, boto, ensure_wrk, free_port, process, run_wrk, wait_ok

REGION, ACCOUNT = "us-east-1", "000000000000"
HELLO = 'def handler(event, context):\n    return {"statusCode": 200, "body": "hello"}\n'
AUTHORIZER = '''
def handler(event, context):
    effect = "Allow" if event["authorizationToken"] == "good-token" else "Deny"
    return {"principalId": "bench", "context": {"plan": "gold"}, "policyDocument": {"Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": "*"}]}}
'''
TOKEN_SCRIPT = 'wrk.headers["Authorization"] = "good-token"\n'


def zipped(source: str) -> bytes:
    buf = BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", source)
    return buf.getvalue()


def uri(name: str) -> str:
    return (f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/arn:aws:lambda:{REGION}:{ACCOUNT}:"
            f"function:{name}/invocations")


def setup(base: str) -> str:
    """The API; its id."""
    lam, gw = boto(base), boto(base, "apigateway")
    for name, source in (("hello", HELLO), ("authorizer", AUTHORIZER)):
        lam.create_function(FunctionName=name, Runtime="python3.11", Handler="app.handler",
                            Role="arn:aws:iam::000000000000:role/r", Code={"ZipFile": zipped(source)})
        lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})
    api = gw.create_rest_api(name="bench")["id"]
    root = gw.get_resources(restApiId=api)["items"][0]["id"]
    auth = gw.create_authorizer(restApiId=api, name="tokens", type="TOKEN", authorizerUri=uri("authorizer"),
                                identitySource="method.request.header.Authorization",
                                authorizerResultTtlInSeconds=300)["id"]
    for part, extra in (("open", {"authorizationType": "NONE"}),
                        ("authorized", {"authorizationType": "CUSTOM", "authorizerId": auth})):
        res = gw.create_resource(restApiId=api, parentId=root, pathPart=part)["id"]
        gw.put_method(restApiId=api, resourceId=res, httpMethod="GET", **extra)
        gw.put_integration(restApiId=api, resourceId=res, httpMethod="GET", type="AWS_PROXY",
                           integrationHttpMethod="POST", uri=uri("hello"))
    for name in ("hello", "authorizer"):
        lam.add_permission(FunctionName=name, StatementId="apigw", Action="lambda:InvokeFunction",
                           Principal="apigateway.amazonaws.com",
                           SourceArn=f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api}/*")
    gw.create_deployment(restApiId=api, stageName="bench")
    return str(api)


def decision_cost_us() -> float:
    """The cached-decision steps of `DataPlane._authorize`, in-process (timeit): what wrk cannot resolve on
    a busy machine."""
    import timeit

    from lambdalite.gateway.data import authorizers as auth
    from lambdalite.gateway.data.events import InvocationInfo, amended
    from lambdalite.gateway.data.policy import parse_decision
    compiled = auth.compile_authorizer({"id": "a1", "type": "TOKEN", "authorizerUri": uri("authorizer"),
                                        "identitySource": "method.request.header.Authorization"}, {})
    cache = auth.DecisionCache()
    cache.put(("api", "bench", "a1", ("good-token",)), parse_decision(json.dumps({
        "principalId": "bench", "context": {"plan": "gold"}, "policyDocument": {"Statement": [
            {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": "*"}]}}).encode()), 300, 0.0)
    info = InvocationInfo("api", "bench", "id", "id", 0, "r", "/authorized")
    headers = {"authorization": "good-token", "host": "127.0.0.1", "user-agent": "wrk"}

    def step() -> None:
        identity = auth.identity_of(compiled, headers, {}, {}, None) or ()
        arn = auth.method_arn(REGION, ACCOUNT, "api", "bench", "GET", "/authorized")
        decision = cache.get(("api", "bench", "a1", identity), 1.0)
        assert decision is not None
        decision.check(arn)
        amended(info, extra_context={**info.extra_context, "authorizer": decision.authorizer_context(0)})
    return timeit.timeit(step, number=100_000) * 10


def interleaved(port: int, pairs: int) -> dict[str, float]:
    """Median latency (us) of each path, the two sent alternately request by request on one keep-alive
    connection (which goes first flips every pair): a busy machine's swings hit both sides alike."""
    import http.client
    import time

    conn = http.client.HTTPConnection("127.0.0.1", port)
    times: dict[str, list[float]] = {"/bench/open": [], "/bench/authorized": []}

    def get(path: str) -> float:
        started = time.perf_counter()
        conn.request("GET", path, headers={"Authorization": "good-token"})
        conn.getresponse().read()
        return time.perf_counter() - started
    for n in range(pairs):
        for path in (("/bench/open", "/bench/authorized") if n % 2 else ("/bench/authorized", "/bench/open")):
            times[path].append(get(path))
    conn.close()
    return {path: statistics.median(found) * 1e6 for path, found in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--conns", type=int, default=1)
    args = parser.parse_args()
    if args.rounds < 5:
        sys.exit("--rounds must be at least 5")
    wrk = ensure_wrk()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    folder = tempfile.mkdtemp(prefix="bench-authorizer-")
    script = f"{folder}/token.lua"
    with open(script, "w") as f:
        f.write(TOKEN_SCRIPT)
    with process([str(BIN / "lambdalite"), "serve", "--port", str(port), "--home", f"{folder}/home"]):
        wait_ok(base + "/_lambdalite/health")
        setup(base)
        paths = {"open": ("/bench/open", Path(script)), "authorized (cached)": ("/bench/authorized", Path(script))}
        for path, lua in paths.values():   # warm-up: instances started, the decision cached
            run_wrk(wrk, base + path, args.conns, 2, lua)
        paired = interleaved(port, 5000)
        rows: dict[str, list[dict[str, float]]] = {label: [] for label in paths}
        for n in range(args.rounds):   # the order flips every round: neither side always goes first
            for label, (path, lua) in (list(paths.items()) if n % 2 == 0 else list(paths.items())[::-1]):
                row = run_wrk(wrk, base + path, args.conns, args.seconds, lua)
                if row["errors"]:
                    sys.exit(f"{label}: {row['errors']} errors")
                rows[label].append(row)
    print(f"\nwarm GET through a REST API, c={args.conns}, {args.rounds} alternating rounds x {args.seconds:g} s, "
          "medians")
    print(f"{'method':<20} | {'req/s':>7} | {'p50 ms':>6} | {'p99 ms':>6} | rounds req/s")
    medians = {}
    for label, runs in rows.items():
        medians[label] = statistics.median(r["rps"] for r in runs)
        print(f"{label:<20} | {medians[label]:>7.0f} | {statistics.median(r['p50'] for r in runs):>6.3f} | "
              f"{statistics.median(r['p99'] for r in runs):>6.3f} | {[round(r['rps']) for r in runs]}")
    cost = 1 - medians["authorized (cached)"] / medians["open"]
    print(f"a cached authorizer decision costs {cost * 100:.1f}% of throughput (goal: at most 5%)")
    open_us, authorized_us = paired["/bench/open"], paired["/bench/authorized"]
    print(f"request by request, alternately (5000 pairs, http.client): open {open_us:.0f} us, authorized "
          f"{authorized_us:.0f} us median: +{authorized_us - open_us:.0f} us, "
          f"{(authorized_us / open_us - 1) * 100:.1f}%")
    per_call_us, decision_us = 1e6 / medians["open"], decision_cost_us()
    print(f"in-process, the cached decision takes {decision_us:.1f} us, {decision_us / per_call_us * 100:.1f}% "
          f"of a warm call's {per_call_us:.0f} us at c=1")


if __name__ == "__main__":
    main()
