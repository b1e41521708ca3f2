"""What checking signatures costs: a warm Invoke of addfive at c=1 against a server without keys and
one with keys (every request's SigV4 checked), each sent the same pre-signed request by wrk.

    .venv/bin/python bench/signed.py [--seconds 4] [--rounds 5] [--conns 1]

Goal (issue 23): at most 20% slower with botocore's signer. The rounds alternate between the two
servers (at least 5) and the medians are compared. The signature is made once per round (a request is
good for 5 minutes either side of its date, as on AWS), so the bench measures the server's check,
not the client's signing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from harness import BIN, addfive_zip, ensure_wrk, free_port, process, run_wrk, wait_ok

KEY, SECRET = "AKIABENCHSIGNED00001", "bench-secret-0123456789abcdef0123456789ab"
INVOKE = "/2015-03-31/functions/addfive/invocations"
BODY = '{"num": "5"}'


def serve(home: str, port: int) -> list[str]:
    return [str(BIN / "lambdalite"), "serve", "--port", str(port), "--home", home]


def create(base: str) -> None:
    lam = boto3.client("lambda", endpoint_url=base, region_name="us-east-1", aws_access_key_id=KEY,
                       aws_secret_access_key=SECRET)
    lam.create_function(FunctionName="addfive", Runtime="python3.11", Handler="lambda_function.lambda_handler",
                        Role="arn:aws:iam::000000000000:role/r", Code={"ZipFile": addfive_zip()})
    lam.get_waiter("function_active_v2").wait(FunctionName="addfive", WaiterConfig={"Delay": 1})


def presigned_script(base: str, folder: Path) -> Path:
    """A wrk script sending one POST Invoke with SigV4 headers made now by botocore."""
    request = AWSRequest(method="POST", url=base + INVOKE, data=BODY.encode())
    SigV4Auth(Credentials(KEY, SECRET), "lambda", "us-east-1").add_auth(request)
    lines = ['wrk.method = "POST"', f"wrk.body = '{BODY}'"]
    lines += [f'wrk.headers["{k}"] = "{v}"' for k, v in request.headers.items()]
    script = folder / f"signed-{base.rsplit(':', 1)[1]}.lua"
    script.write_text("\n".join(lines) + "\n")
    return script


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--conns", type=int, default=1)
    args = parser.parse_args()
    if args.rounds < 5:
        sys.exit("--rounds must be at least 5")
    wrk = ensure_wrk()
    folder = Path(tempfile.mkdtemp(prefix="bench-signed-"))
    open_port, signed_port = free_port(), free_port()
    plain, signed = f"http://127.0.0.1:{open_port}", f"http://127.0.0.1:{signed_port}"
    keys = {"LAMBDALITE_ACCESS_KEY_ID": KEY, "LAMBDALITE_SECRET_ACCESS_KEY": SECRET}
    with process(serve(tempfile.mkdtemp(prefix="bench-open-"), open_port)), \
            process(serve(tempfile.mkdtemp(prefix="bench-keys-"), signed_port), env=keys):
        for base in (plain, signed):
            wait_ok(base + "/_lambdalite/health")
            create(base)
            run_wrk(wrk, base + INVOKE, args.conns, 2, presigned_script(base, folder))   # warm-up
        rows: dict[str, list[dict[str, float]]] = {"without keys": [], "with keys": []}
        for _ in range(args.rounds):
            for label, base in (("without keys", plain), ("with keys", signed)):
                row = run_wrk(wrk, base + INVOKE, args.conns, args.seconds, presigned_script(base, folder))
                if row["errors"]:
                    sys.exit(f"{label}: {row['errors']} errors (a refused signature?)")
                rows[label].append(row)
    print(f"\nwarm Invoke of addfive, the same pre-signed request, c={args.conns}, {args.rounds} alternating rounds "
          f"x {args.seconds:g} s, medians")
    print(f"{'server':<13} | {'req/s':>7} | {'p50 ms':>6} | {'p99 ms':>6} | rounds req/s")
    medians = {}
    for label, runs in rows.items():
        medians[label] = statistics.median(r["rps"] for r in runs)
        print(f"{label:<13} | {medians[label]:>7.0f} | {statistics.median(r['p50'] for r in runs):>6.3f} | "
              f"{statistics.median(r['p99'] for r in runs):>6.3f} | {[round(r['rps']) for r in runs]}")
    cost = 1 - medians["with keys"] / medians["without keys"]
    print(f"checking signatures costs {cost * 100:.1f}% of throughput (goal: at most 20%)")


if __name__ == "__main__":
    main()
