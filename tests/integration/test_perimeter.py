"""Browsers and rebound names kept out of the management and invoke APIs (issue 23 item 3), through the
real server: what a web page in the user's browser could send, sent with raw HTTP."""

from __future__ import annotations

import http.client
import json
from pathlib import Path

import requests

from tests.conftest import ROLE, Server, boto_client, create_function, unique, zip_of
from tests.integration.test_cli import cli

ROOT = Path(__file__).resolve().parents[2]


def raw(server: Server, method: str, path: str, headers: dict[str, str], body: bytes | None = None
        ) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers)
        answer = conn.getresponse()
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()
    finally:
        conn.close()


def create_body(name: str) -> bytes:
    import base64
    return json.dumps({"FunctionName": name, "Runtime": "python3.11", "Role": ROLE, "Handler": "app.handler",
                       "Code": {"ZipFile": base64.b64encode(zip_of("def handler(e, c):\n    return 1\n")).decode()}
                       }).encode()


def test_a_web_page_cannot_create_or_run_a_function(server: Server) -> None:
    lam = boto_client(server.base)
    name = unique("page")
    # a page's fetch(): text/plain (no CORS preflight), from its own origin
    for headers in ({"Origin": "http://evil.example", "Content-Type": "text/plain;charset=UTF-8"},
                    {"Origin": "null", "Content-Type": "application/json"},
                    {"Origin": "http://127.0.0.1:1", "Content-Type": "application/json"},   # another local port
                    {"Content-Type": "text/plain"}):                        # no Origin, but a browser's body
        status, answer_headers, body = raw(server, "POST", "/2015-03-31/functions", headers, create_body(name))
        assert status in (403, 415), (headers, status, body)
        assert not any(k.startswith("access-control-") for k in answer_headers)
        error = json.loads(body)
        assert answer_headers["x-amzn-errortype"] in ("AccessDeniedException", "UnsupportedMediaTypeException")
        assert error.get("Message") or error.get("message")
    assert name not in [f["FunctionName"] for f in lam.list_functions()["Functions"]]   # nothing was made

    create_function(lam, name, "def handler(e, c):\n    return 'ran'\n")
    status, _, body = raw(server, "POST", f"/2015-03-31/functions/{name}/invocations",
                          {"Origin": "http://evil.example", "Content-Type": "text/plain"}, b"{}")
    assert status == 403
    status, _, body = raw(server, "DELETE", f"/2015-03-31/functions/{name}", {"Host": "evil.example"})
    assert (status, json.loads(body)["Message"].startswith("Host 'evil.example'")) == (403, True)
    assert lam.get_function(FunctionName=name)["Configuration"]["FunctionName"] == name   # still there

    # the server's own origin, and programs that send none (boto3, the CLI, curl) are fine
    status, _, body = raw(server, "POST", f"/2015-03-31/functions/{name}/invocations",
                          {"Origin": f"http://127.0.0.1:{server.port}", "Content-Type": "application/json"}, b"{}")
    assert (status, body) == (200, b'"ran"')
    assert requests.post(f"{server.base}/2015-03-31/functions/{name}/invocations", data=b"{}", timeout=30).text \
        == '"ran"'
    assert raw(server, "GET", "/2015-03-31/functions/", {"Host": f"localhost:{server.port}"})[0] == 200
    assert raw(server, "GET", "/2015-03-31/functions/", {"Host": f"[::1]:{server.port}"})[0] == 200
    assert raw(server, "GET", "/_lambdalite/health", {"Host": "evil.example"})[0] == 200   # the probe: open


def test_every_management_surface_is_guarded(server: Server) -> None:
    guarded = [("GET", "/restapis"), ("GET", "/v2/apis"), ("GET", "/_lambdalite/invocations"),
               ("GET", "/_lambdalite/metrics"), ("GET", "/2015-03-31/functions/")]
    for method, path in guarded:
        assert raw(server, method, path, {"Origin": "http://evil.example"})[0] == 403, path
        assert raw(server, method, path, {"Host": "rebound.example"})[0] == 403, path
    status, _, _ = raw(server, "POST", "/", {"Origin": "http://evil.example", "X-Amz-Target":
                                             "Logs_20140328.DescribeLogGroups",
                                             "Content-Type": "application/x-amz-json-1.1"}, b"{}")
    assert status == 403
    status, _, _ = raw(server, "POST", "/", {"Origin": "http://evil.example",
                                             "Content-Type": "application/x-www-form-urlencoded"},
                       b"Action=DescribeStacks&Version=2010-05-15")
    assert status == 403


def test_api_stages_keep_api_gateways_own_rules(server: Server) -> None:
    """A stage's data plane is for browsers too: no Origin or Host check, a text/plain body passes."""
    done = cli(server, "deploy", str(ROOT / "examples" / "addfive"))
    assert done.returncode == 0, done.stderr
    stack = boto_client(server.base, "cloudformation").describe_stacks(StackName="addfive")["Stacks"][0]
    url = next(o["OutputValue"] for o in stack["Outputs"] if o["OutputKey"] == "AddFiveApiUrl")
    r = requests.get(url, params={"num": "5"}, timeout=30, headers={"Origin": "http://some.site"})
    assert r.text == "10"
    status, _, body = raw(server, "GET", url.removeprefix(server.base) + "?num=1",
                          {"Host": "my.example", "Origin": "null"})
    assert (status, body) == (200, b"6")


def test_allowed_host_names_another_name(tmp_path: Path) -> None:
    srv = Server(tmp_path / "home", extra=("--allowed-host", "devbox.internal"))
    srv.home.mkdir()
    srv.start()
    try:
        assert raw(srv, "GET", "/2015-03-31/functions/", {"Host": f"devbox.internal:{srv.port}"})[0] == 200
        assert raw(srv, "GET", "/2015-03-31/functions/",
                   {"Host": f"devbox.internal:{srv.port}", "Origin": f"http://devbox.internal:{srv.port}"})[0] == 200
        assert raw(srv, "GET", "/2015-03-31/functions/", {"Host": "other.internal"})[0] == 403
    finally:
        srv.stop()
