"""No single request stalls the server (issue 23 item 4): each attack gets a clear answer, and a warm
invoke of another function keeps answering meanwhile (a prober thread times it)."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import Server, boto_client, create_function, unique, zip_of
from tests.integration.test_cli import cli

ADDFIVE = "def handler(event, context):\n    return int(event.get('num', 0)) + 5\n"
RAISES = "def handler(event, context):\n    raise Exception('a' * 30)\n"
GROWING = '#set($l=[1])#foreach($i in $l)#set($d=$l.add(1))#end{"statusCode": 200}'
RANGE = "#foreach($i in [1..$input.params('n')])#end{\"statusCode\": 200}"
HUGE = '#set($s="0123456789abcdef")' + '#set($s="$s$s")' * 25 + '{"statusCode": 200}'
LAUGHS = ("Transform: AWS::Serverless-2016-10-31\nMetadata:\n  l0: &l0 [" + ", ".join(["lol"] * 10) + "]\n"
          + "".join(f"  l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]\n" for i in range(1, 8)) + "Resources: {}\n")


class Prober(threading.Thread):
    """Invokes the warm function every 50 ms; keeps the slowest answer's time."""

    def __init__(self, lam: Any) -> None:
        super().__init__(daemon=True)
        self.lam, self.worst, self.failures, self.done = lam, 0.0, 0, threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            started = time.monotonic()
            try:
                assert json.loads(self.lam.invoke(FunctionName="warm", Payload=b'{"num": 1}')["Payload"].read()) == 6
            except Exception:  # noqa: BLE001 - counted, reported by the test
                self.failures += 1
            self.worst = max(self.worst, time.monotonic() - started)
            time.sleep(0.05)


@pytest.fixture(scope="module")
def stall_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("stall-home")).start()
    lam = boto_client(srv.base)
    create_function(lam, "warm", ADDFIVE)
    create_function(lam, "raiser", RAISES)
    lam.invoke(FunctionName="warm", Payload=b"{}")["Payload"].read()
    yield srv
    srv.stop()


def meanwhile(server: Server, attack: Callable[[], Any]) -> Any:
    """The attack's outcome; the warm function answered within a second all along (a stalled event loop
    would hold it for as long as the attack runs)."""
    prober = Prober(boto_client(server.base))
    prober.start()
    try:
        return attack()
    finally:
        prober.done.set()
        prober.join(30)
        assert prober.failures == 0 and prober.worst < 1.0, (prober.failures, prober.worst)


@pytest.fixture(scope="module")
def api(stall_server: Server) -> str:
    """A REST API on stage PRD: MOCK methods with the attacking templates, and an AWS integration to
    `raiser` whose 400 response has a catastrophic selectionPattern."""
    gw = boto_client(stall_server.base, "apigateway")
    api_id = gw.create_rest_api(name=unique("stall"))["id"]
    root = gw.get_resources(restApiId=api_id)["items"][0]["id"]
    uri = ("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:"
           "function:raiser/invocations")
    for part, integration in (("loop", {"type": "MOCK", "requestTemplates": {"application/json": GROWING}}),
                              ("range", {"type": "MOCK", "requestTemplates": {"application/json": RANGE}}),
                              ("huge", {"type": "MOCK", "requestTemplates": {"application/json": HUGE}}),
                              ("regex", {"type": "AWS", "integrationHttpMethod": "POST", "uri": uri})):
        res = gw.create_resource(restApiId=api_id, parentId=root, pathPart=part)["id"]
        gw.put_method(restApiId=api_id, resourceId=res, httpMethod="GET", authorizationType="NONE")
        gw.put_integration(restApiId=api_id, resourceId=res, httpMethod="GET", **integration)
        for code, pattern in (("200", None), ("400", "(a+)+b"), ("418", "(a|aa)+b")):
            gw.put_method_response(restApiId=api_id, resourceId=res, httpMethod="GET", statusCode=code)
            gw.put_integration_response(restApiId=api_id, resourceId=res, httpMethod="GET", statusCode=code,
                                        responseTemplates={"application/json": '{"done": true}'},
                                        **({"selectionPattern": pattern} if pattern else {}))
    boto_client(stall_server.base).add_permission(
        FunctionName="raiser", StatementId="apigw", Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com", SourceArn=f"arn:aws:execute-api:us-east-1:000000000000:{api_id}/*")
    gw.create_deployment(restApiId=api_id, stageName="PRD")
    return f"{stall_server.base}/PRD"


def test_a_template_that_grows_the_list_it_iterates(stall_server: Server, api: str) -> None:
    r = meanwhile(stall_server, lambda: requests.get(api + "/loop", timeout=30))
    assert (r.status_code, r.json()) == (200, {"done": True})    # the loop stopped at 1,000 iterations


def test_a_foreach_over_a_range_from_the_query(stall_server: Server, api: str) -> None:
    r = meanwhile(stall_server, lambda: requests.get(api + "/range", params={"n": "1000000000"}, timeout=30))
    assert (r.status_code, r.json()) == (200, {"done": True})


def test_a_template_rendering_hundreds_of_megabytes(stall_server: Server, api: str) -> None:
    r = meanwhile(stall_server, lambda: requests.get(api + "/huge", timeout=30))
    assert (r.status_code, r.json()) == (500, {"message": "Internal server error"})


def test_catastrophic_selection_patterns(stall_server: Server, api: str) -> None:
    r = meanwhile(stall_server, lambda: requests.get(api + "/regex", timeout=30))
    assert (r.status_code, r.json()) == (200, {"done": True})   # neither pattern matched in time: the default


def test_a_catastrophic_model_pattern(stall_server: Server) -> None:
    gw = boto_client(stall_server.base, "apigateway")
    api_id = gw.create_rest_api(name=unique("model"))["id"]
    root = gw.get_resources(restApiId=api_id)["items"][0]["id"]
    schema = {"type": "object", "properties": {"name": {"type": "string", "pattern": "^(a|aa)+b$"}}}
    gw.create_model(restApiId=api_id, name="Named", contentType="application/json", schema=json.dumps(schema))
    validator = gw.create_request_validator(restApiId=api_id, name="body", validateRequestBody=True)["id"]
    gw.put_method(restApiId=api_id, resourceId=root, httpMethod="POST", authorizationType="NONE",
                  requestValidatorId=validator, requestModels={"application/json": "Named"})
    gw.put_integration(restApiId=api_id, resourceId=root, httpMethod="POST", type="MOCK",
                       requestTemplates={"application/json": '{"statusCode": 200}'})
    gw.put_method_response(restApiId=api_id, resourceId=root, httpMethod="POST", statusCode="200")
    gw.put_integration_response(restApiId=api_id, resourceId=root, httpMethod="POST", statusCode="200",
                                responseTemplates={"application/json": "{}"})
    gw.create_deployment(restApiId=api_id, stageName="M")
    url = f"{stall_server.base}/restapis/{api_id}/M/_user_request_/"
    r = meanwhile(stall_server, lambda: requests.post(url, json={"name": "a" * 60}, timeout=30))
    assert (r.status_code, r.json()) == (400, {"message": "Invalid request body"})
    assert requests.post(url, json={"name": "aab"}, timeout=30).status_code == 200


def test_a_billion_laughs_template(stall_server: Server, tmp_path: Path) -> None:
    (tmp_path / "template.yaml").write_text(LAUGHS)
    done = meanwhile(stall_server, lambda: cli(stall_server, "deploy", str(tmp_path), "--stack-name", "laughs"))
    assert done.returncode != 0 and "500,000 values" in done.stdout + done.stderr


def test_json_nested_100_000_deep(stall_server: Server) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    r = meanwhile(stall_server, lambda: requests.post(
        f"{stall_server.base}/2015-03-31/functions/warm/invocations", data=deep, timeout=30))
    assert r.status_code == 400 and r.headers["x-amzn-ErrorType"] == "InvalidRequestContentException"
    assert "nested too deeply" in r.json()["message"]
    r = requests.post(f"{stall_server.base}/2015-03-31/functions", data=b'{"a":' * 100_000, timeout=30,
                      headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.headers["x-amzn-ErrorType"] == "InvalidRequestContentException"


def test_a_zip_member_name_of_300_characters(stall_server: Server) -> None:
    lam = boto_client(stall_server.base)
    from tests.conftest import ROLE
    code = zip_of({"app.py": ADDFIVE, "x" * 300 + ".py": "X = 1"})
    from tests.conftest import error_of
    code_, status, message = error_of(lam.create_function, FunctionName=unique("longname"), Runtime="python3.11",
                                      Role=ROLE, Handler="app.handler", Code={"ZipFile": code})
    assert (code_, status) == ("InvalidParameterValueException", 400) and "name too long" in message


@pytest.mark.parametrize("size", [1024 * 1024, 50 * 1024 * 1024])
def test_huge_headers(stall_server: Server, size: int) -> None:
    host, port = stall_server.base.rsplit("/", 1)[1].split(":")
    head = b"GET /2015-03-31/functions HTTP/1.1\r\nHost: " + host.encode() + b"\r\nX-Big: " + b"a" * size + b"\r\n\r\n"

    def send() -> bytes | None:
        """Over a raw socket: an HTTP client would check the 50 MB value with a regex while holding the GIL,
        and starve the prober in this process (the client's stall, not the server's)."""
        with socket.create_connection((host, int(port)), timeout=30) as conn:
            with contextlib.suppress(OSError):   # the server answers and closes while the client still sends
                conn.sendall(head)
            answer = b""
            with contextlib.suppress(OSError):
                while chunk := conn.recv(65536):
                    answer += chunk
            return answer or None
    answer = meanwhile(stall_server, send)
    if answer is not None:
        assert answer.startswith(b"HTTP/1.1 431") and b"Request Header Fields Too Large" in answer
    assert requests.get(f"{stall_server.base}/_lambdalite/health", timeout=10).status_code == 200
    ok = requests.get(f"{stall_server.base}/2015-03-31/functions", headers={"X-Fine": "a" * 8000}, timeout=10)
    assert ok.status_code == 200


def test_a_whole_request_with_a_large_body_in_one_read_is_not_a_large_head(stall_server: Server) -> None:
    """The head limit counts the head only: a request of 100 KB arriving whole in one read passes, and
    so do the next ones on the same connection (a first version counted such a read as head)."""
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", stall_server.port, timeout=30)
    try:
        for size in (100_000, 60_000, 100_000, 150_000, 100_000):   # whole, each sent with one write
            body = json.dumps({"num": 1, "pad": "x" * size}).encode()
            conn.request("POST", "/2015-03-31/functions/warm/invocations", body=body)
            answer = conn.getresponse()
            assert (answer.status, answer.read()) == (200, b"6")
    finally:
        conn.close()


def test_importing_a_large_yaml_document_does_not_stall_the_server(stall_server: Server) -> None:
    """ImportRestApi of a 1 MB YAML document takes seconds to read: on a worker thread, while the warm
    function keeps answering."""
    import yaml
    uri = ("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:"
           "function:warm/invocations")
    paths = {f"/r{i}/{{id}}": {"get": {"responses": {"200": {"description": "ok"}},
                                       "x-amazon-apigateway-integration": {"type": "aws_proxy", "httpMethod": "POST",
                                                                           "uri": uri}}}
             for i in range(2500)}
    document = yaml.safe_dump({"swagger": "2.0", "info": {"title": unique("big"), "version": "1"}, "paths": paths})
    gw = boto_client(stall_server.base, "apigateway")
    api = meanwhile(stall_server, lambda: gw.import_rest_api(body=document.encode()))
    assert len(gw.get_resources(restApiId=api["id"], limit=500)["items"]) == 500
