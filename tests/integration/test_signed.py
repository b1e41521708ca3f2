"""Signed requests checked (issue 23 items 1 and 2), through a real server with credentials: boto3 and
the AWS CLI signing as they always do, our CLI and SDK signing, and AWS's 403 answers for everything
else."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from lambdalite.client import Client
from lambdalite.errors import ClientError as LambdaliteClientError
from tests.conftest import Server, create_function, unique
from tests.integration.test_cli import LAMBDALITE

ROOT = Path(__file__).resolve().parents[2]
KEY, SECRET = "AKIALAMBDALITETEST01", "lambdalite-test-secret-0123456789abcdef"
CREDS = {"LAMBDALITE_ACCESS_KEY_ID": KEY, "LAMBDALITE_SECRET_ACCESS_KEY": SECRET}


def client(base: str, service: str = "lambda", key: str = KEY, secret: str = SECRET, region: str = "us-east-1") -> Any:
    return boto3.client(service, endpoint_url=base, region_name=region, aws_access_key_id=key,
                        aws_secret_access_key=secret, config=Config(retries={"max_attempts": 0}))


def code_of(call: Any, **kwargs: Any) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as refused:
        call(**kwargs)
    error = refused.value.response
    return error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"], error["Error"].get("Message", "")


def run_cli(server: Server, *args: str, signed: bool = True) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LAMBDALITE_"))}
    env.update({"LAMBDALITE_ENDPOINT": server.base, "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
                **(CREDS if signed else {})})
    return subprocess.run([LAMBDALITE, *args], capture_output=True, text=True, env=env, timeout=120, check=False)


@pytest.fixture(scope="module")
def signed_server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    home = tmp_path_factory.mktemp("signed-home")
    srv = Server(home, env=CREDS, extra=("--test-clock",)).start()
    yield srv
    srv.stop()


def test_boto3_signs_and_passes_everything_else_is_refused_as_aws_refuses_it(signed_server: Server) -> None:
    lam = client(signed_server.base)
    name = unique("signed")
    create_function(lam, name, "def handler(e, c):\n    return 7\n")
    assert json.loads(lam.invoke(FunctionName=name)["Payload"].read()) == 7

    assert code_of(client(signed_server.base, secret="wrong").list_functions)[:2] == ("InvalidSignatureException", 403)
    code, status, message = code_of(client(signed_server.base, key="AKIAUNKNOWN000000000").list_functions)
    assert (code, status, message) == ("UnrecognizedClientException", 403,
                                       "The security token included in the request is invalid.")
    code, _, message = code_of(client(signed_server.base, region="eu-west-1").list_functions)
    assert code == "InvalidSignatureException" and "region" in message

    unsigned = requests.get(f"{signed_server.base}/2015-03-31/functions/", timeout=30)
    assert (unsigned.status_code, unsigned.headers["x-amzn-ErrorType"], unsigned.json()) == \
        (403, "MissingAuthenticationTokenException", {"message": "Missing Authentication Token"})
    garbage = requests.get(f"{signed_server.base}/2015-03-31/functions/", timeout=30,
                           headers={"Authorization": "garbage"})
    assert garbage.status_code == 403 and garbage.headers["x-amzn-ErrorType"] == "InvalidSignatureException"

    # signed for another service (API Gateway's scope on a Lambda path)
    request = AWSRequest(method="GET", url=f"{signed_server.base}/2015-03-31/functions/")
    SigV4Auth(Credentials(KEY, SECRET), "apigateway", "us-east-1").add_auth(request)
    r = requests.get(request.url, headers=dict(request.headers.items()), timeout=30)
    assert r.status_code == 403 and "correct service: 'lambda'" in r.json()["message"]

    # a body changed after signing
    body = json.dumps({"num": 1}).encode()
    request = AWSRequest(method="POST", url=f"{signed_server.base}/2015-03-31/functions/{name}/invocations", data=body)
    SigV4Auth(Credentials(KEY, SECRET), "lambda", "us-east-1").add_auth(request)
    r = requests.post(request.url, data=b'{"num": 2}', headers=dict(request.headers.items()), timeout=30)
    assert r.status_code == 403 and r.headers["x-amzn-ErrorType"] == "InvalidSignatureException"
    r = requests.post(request.url, data=body, headers=dict(request.headers.items()), timeout=30)
    assert (r.status_code, r.text) == (200, "7")   # the same request, unchanged


def test_a_request_replayed_past_the_skew_is_expired(tmp_path: Path) -> None:
    signed_server = Server(tmp_path / "home", env=CREDS, extra=("--test-clock",))
    signed_server.home.mkdir()
    signed_server.start()
    try:
        replayed(signed_server)
    finally:
        signed_server.stop()


def replayed(signed_server: Server) -> None:
    lam = client(signed_server.base)
    request = AWSRequest(method="GET", url=f"{signed_server.base}/2015-03-31/functions/")
    SigV4Auth(Credentials(KEY, SECRET), "lambda", "us-east-1").add_auth(request)
    headers = dict(request.headers.items())
    assert requests.get(request.url, headers=headers, timeout=30).status_code == 200
    move = AWSRequest(method="POST", url=f"{signed_server.base}/_lambdalite/clock",
                      data=json.dumps({"advance_s": 400}).encode(), headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(KEY, SECRET), "lambda", "us-east-1").add_auth(move)
    assert requests.post(move.url, data=move.data, headers=dict(move.headers.items()), timeout=30).ok
    # the server clock moved on 400 s (its wall time stood at its start, a second or two before the
    # request was signed); the signed request is replayed past Lambda's 5 minutes
    r = requests.get(request.url, headers=headers, timeout=30)
    assert r.status_code == 403 and r.json()["message"].startswith(f"Signature expired: {headers['X-Amz-Date']} "
                                                                   "is now earlier than ")
    assert r.json()["message"].endswith(" - 5 min.)")
    code, _, message = code_of(lam.list_functions)   # boto3 signs with the real time: 5 minutes behind now
    assert code == "InvalidSignatureException" and "Signature expired" in message


def test_what_stays_unsigned(signed_server: Server) -> None:
    assert requests.get(f"{signed_server.base}/_lambdalite/health", timeout=30).json()["status"] == "ok"
    assert requests.get(f"{signed_server.base}/_lambdalite/metrics", timeout=30).status_code == 200   # loopback


def test_our_cli_and_sdk_sign(tmp_path: Path) -> None:
    srv = Server(tmp_path / "home", env=CREDS)
    srv.home.mkdir()
    srv.start()
    try:
        done = run_cli(srv, "deploy", str(ROOT / "examples" / "addfive"))
        assert done.returncode == 0, done.stderr
        assert run_cli(srv, "ls").returncode == 0
        refused = run_cli(srv, "ls", signed=False)
        assert refused.returncode == 3 and "Missing Authentication Token" in refused.stderr
        # the stage's data plane is API Gateway's: unsigned, as on AWS
        assert requests.get(f"{srv.base}/PRD/addfive", params={"num": "5"}, timeout=30).text == "10"
        with Client(srv.base, credentials=(KEY, SECRET)) as sdk:
            assert sdk.invoke("addfive", {"num": "1"}).json() == 6
            assert sdk.map("addfive", [{"num": "1"}, {"num": "2"}]) == [6, 7]
        with unsigned_sdk(srv) as sdk, pytest.raises(LambdaliteClientError, match="Missing Authentication Token"):
            sdk.invoke("addfive", {"num": "1"})
        with Client(srv.base, credentials=("AKIAUNKNOWN000000000", "x")) as sdk, \
                pytest.raises(LambdaliteClientError, match="security token included in the request is invalid"):
            sdk.invoke("addfive", {"num": "1"})
    finally:
        srv.stop()


def unsigned_sdk(srv: Server) -> Client:
    """The SDK of a user with no keys anywhere (no variables, no ~/.aws/credentials)."""
    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith(("AWS_", "LAMBDALITE_ACCESS",
                                                                             "LAMBDALITE_SECRET"))}
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = "/nonexistent"
    try:
        return Client(srv.base)
    finally:
        del os.environ["AWS_SHARED_CREDENTIALS_FILE"]
        os.environ.update(saved)


def test_keys_create_makes_a_key_a_server_on_that_home_checks(tmp_path: Path) -> None:
    home = tmp_path / "home"
    made = subprocess.run([LAMBDALITE, "keys", "create", "--home", str(home)], capture_output=True, text=True,
                          check=True)
    variables = dict(line.removeprefix("export ").split("=", 1) for line in made.stdout.splitlines())
    key, secret = variables["LAMBDALITE_ACCESS_KEY_ID"], variables["LAMBDALITE_SECRET_ACCESS_KEY"]
    assert oct((home / "keys.json").stat().st_mode & 0o777) == "0o600"
    listed = subprocess.run([LAMBDALITE, "keys", "list", "--home", str(home)], capture_output=True, text=True,
                            check=True)
    assert listed.stdout.split() == [key] and secret not in listed.stdout
    srv = Server(home).start()   # no variables: the keys file alone turns checking on
    try:
        assert client(srv.base, key=key, secret=secret).list_functions()["Functions"] == []
        assert code_of(client(srv.base).list_functions)[0] == "UnrecognizedClientException"
    finally:
        srv.stop()


def test_listening_beyond_loopback_without_keys_is_refused(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAMBDALITE_")}
    done = subprocess.run([LAMBDALITE, "serve", "--host", "0.0.0.0", "--port", "0", "--home", str(tmp_path / "h")],
                          capture_output=True, text=True, env=env, timeout=60, check=False)
    assert done.returncode == 4 and "no credentials are configured" in done.stderr and "--insecure" in done.stderr


def test_metrics_beyond_loopback_need_the_bearer_token() -> None:
    """The rule itself (a scrape from another address cannot come from a loopback-only test)."""
    from lambdalite.config import Settings
    from lambdalite.server import App

    app = App(Settings(home=Path("/nonexistent"), metrics_token="t0ken"))
    far = {"client": ("10.0.0.9", 5000), "headers": []}
    assert app.scraper_ok({"client": ("127.0.0.1", 5000), "headers": []})
    assert not app.scraper_ok(far)
    assert app.scraper_ok({**far, "headers": [(b"authorization", b"Bearer t0ken")]})
    assert not app.scraper_ok({**far, "headers": [(b"authorization", b"Bearer nope")]})
    assert not App(Settings(home=Path("/nonexistent"))).scraper_ok(far)   # no token set: never from afar


def test_a_signed_invoke_reaches_the_fast_path(signed_server: Server) -> None:
    """The invoke lane still answers a signed request after the body was read for its hash."""
    lam = client(signed_server.base)
    name = unique("fast")
    create_function(lam, name, "def handler(e, c):\n    return e\n")
    conn = http.client.HTTPConnection("127.0.0.1", signed_server.port, timeout=30)
    try:
        body = json.dumps({"big": "x" * 100_000}).encode()
        request = AWSRequest(method="POST", url=f"{signed_server.base}/2015-03-31/functions/{name}/invocations",
                             data=body)
        SigV4Auth(Credentials(KEY, SECRET), "lambda", "us-east-1").add_auth(request)
        conn.request("POST", f"/2015-03-31/functions/{name}/invocations", body=body,
                     headers=dict(request.headers.items()))
        answer = conn.getresponse()
        assert (answer.status, json.loads(answer.read())) == (200, {"big": "x" * 100_000})
    finally:
        conn.close()


FAN_OUT = """
import json, boto3
def handler(event, context):
    lam = boto3.client("lambda")   # AWS_ENDPOINT_URL_LAMBDA and the instance's keys, as on AWS
    answer = lam.invoke(FunctionName=event["target"], Payload=b"{}")
    return json.loads(answer["Payload"].read())
"""


def test_a_function_calls_another_on_a_server_with_keys(signed_server: Server) -> None:
    """boto3 inside a function signs with its instance's own session keys: fan-out works with keys on
    (test_walls.py: what else they may do)."""
    lam = client(signed_server.base)
    callee, caller = unique("callee"), unique("caller")
    create_function(lam, callee, "def handler(e, c):\n    return 'called'\n")
    create_function(lam, caller, FAN_OUT, Timeout=30)
    answer = lam.invoke(FunctionName=caller, Payload=json.dumps({"target": callee}).encode())
    assert "FunctionError" not in answer and json.loads(answer["Payload"].read()) == "called"
