"""The SDK (lambdalite.Client) against a real `lambdalite serve`."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from lambdalite import Client
from lambdalite.client import LogPage
from lambdalite.errors import ClientError
from tests.conftest import Server, create_function, free_port, unique

ADDFIVE = """
def lambda_handler(event, context):
    try:
        return int(event['num']) + 5
    except:
        return 0
"""
ECHO = """
def handler(event, context):
    print("echo", context.aws_request_id)
    return event
"""
FAILS = """
def handler(event, context):
    raise ValueError("nope: " + str(event.get("why")))
"""


@pytest.fixture
def client(server: Server) -> Iterator[Client]:
    with Client(server.base) as c:
        yield c


def wait_for_logs(client: Client, name: str, wanted: str, deadline_s: float = 10.0) -> LogPage:
    """Logs are written in batches (every 0.2 s): poll until a message contains `wanted`."""
    deadline = time.monotonic() + deadline_s
    while True:
        page = client.logs(name)
        if any(wanted in e.message for e in page.events) or time.monotonic() > deadline:
            return page
        time.sleep(0.1)


def test_health(client: Client) -> None:
    health = client.health()
    assert isinstance(health, dict)
    assert health.get("status") == "ok"


def test_endpoint_from_the_environment(monkeypatch: pytest.MonkeyPatch, server: Server) -> None:
    monkeypatch.setenv("LAMBDALITE_ENDPOINT", server.base + "/")
    with Client() as c:
        assert c.endpoint == server.base
        assert c.health()["status"] == "ok"
    monkeypatch.delenv("LAMBDALITE_ENDPOINT")
    assert Client().endpoint == "http://127.0.0.1:9000"


def test_invoke_addfive(lam, client: Client) -> None:  # type: ignore[no-untyped-def]
    name = unique("addfive")
    create_function(lam, name, {"lambda_function.py": ADDFIVE}, handler="lambda_function.lambda_handler")
    result = client.invoke(name, {"num": "15"})
    assert (result.status, result.json(), result.function_error) == (200, 20, None)
    assert result.executed_version == "$LATEST"
    assert result.request_id
    assert result.log is None
    assert client.invoke(name, {"num": "test"}).json() == 0
    assert client.invoke(name, payload=b'{"num": "1"}').json() == 6
    assert client.invoke(name, {"num": "1"}, qualifier="$LATEST").json() == 6


def test_invoke_without_event_gives_an_empty_object(lam, client: Client) -> None:  # type: ignore[no-untyped-def]
    name = unique("echo")
    create_function(lam, name, ECHO)
    assert client.invoke(name).json() == {}
    assert client.invoke(name, ["a", 1, None]).json() == ["a", 1, None]


def test_invoke_log_tail(lam, client: Client) -> None:  # type: ignore[no-untyped-def]
    name = unique("echo")
    create_function(lam, name, ECHO)
    result = client.invoke(name, {"x": 1}, log=True)
    assert result.log is not None
    assert f"START RequestId: {result.request_id}" in result.log
    assert f"echo {result.request_id}" in result.log
    assert f"REPORT RequestId: {result.request_id}" in result.log


def test_function_error_is_a_result_not_an_exception(lam, client: Client) -> None:  # type: ignore[no-untyped-def]
    name = unique("fails")
    create_function(lam, name, FAILS)
    result = client.invoke(name, {"why": "testing"})
    assert result.status == 200
    assert result.function_error == "Unhandled"
    error = result.json()
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "nope: testing"


def test_unknown_function_raises_not_found(client: Client) -> None:
    name = unique("missing")
    with pytest.raises(ClientError) as caught:
        client.invoke(name, {})
    assert (caught.value.status, caught.value.code) == (404, "ResourceNotFoundException")
    assert "Function not found" in caught.value.message
    assert name in caught.value.message
    with pytest.raises(ClientError, match="Function not found") as caught:
        client.get_function(name)
    assert caught.value.status == 404


def test_get_list_and_delete(lam, client: Client) -> None:  # type: ignore[no-untyped-def]
    name = unique("crud")
    create_function(lam, name, ECHO, MemorySize=256, Timeout=7)
    config = client.get_function(name)["Configuration"]
    assert (config["FunctionName"], config["MemorySize"], config["Timeout"]) == (name, 256, 7)
    assert name in {f["FunctionName"] for f in client.list_functions()}
    client.delete_function(name)
    assert name not in {f["FunctionName"] for f in client.list_functions()}
    with pytest.raises(ClientError) as caught:
        client.delete_function(name)
    assert caught.value.code == "ResourceNotFoundException"


def test_list_functions_follows_pages(lam, client: Client) -> None:  # type: ignore[no-untyped-def]
    names = {unique("page") for _ in range(55)}  # AWS answers at most 50 per page
    for name in names:
        create_function(lam, name, ECHO, wait=False)
    listed = [f["FunctionName"] for f in client.list_functions()]
    assert names <= set(listed)
    assert len(listed) == len(set(listed))


def test_logs_pages_by_id(lam, client: Client) -> None:  # type: ignore[no-untyped-def]
    name = unique("echo")
    create_function(lam, name, ECHO)
    request_id = client.invoke(name, {}).request_id
    page = wait_for_logs(client, name, "REPORT")
    assert any(e.message.startswith(f"START RequestId: {request_id}") for e in page.events)
    assert any(f"echo {request_id}" in e.message and e.request_id == request_id for e in page.events)
    ids = [e.id for e in page.events]
    assert ids == sorted(ids) and page.next == ids[-1]
    assert client.logs(name, after=page.next).events == []
    assert client.logs(name, after=page.next).next == page.next
    # limit counts invocations: the lines of one invocation share its id
    assert {e.id for e in client.logs(name, limit=1).events} == {ids[0]}
    future_ms = int(time.time() * 1000) + 3_600_000
    assert client.logs(name, since_ms=future_ms).events == []
    assert client.logs(name, since_ms=page.events[0].timestamp).events == page.events


def test_logs_of_unknown_function(client: Client) -> None:
    with pytest.raises(ClientError) as caught:
        client.logs(unique("missing"))
    assert (caught.value.status, caught.value.code) == (404, "ResourceNotFoundException")


def test_one_client_many_threads(lam, client: Client) -> None:  # type: ignore[no-untyped-def]
    name = unique("addfive")
    create_function(lam, name, {"lambda_function.py": ADDFIVE}, handler="lambda_function.lambda_handler")
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda n: client.invoke(name, {"num": str(n)}).json(), range(40)))
    assert results == [n + 5 for n in range(40)]


def test_connection_is_kept_alive(client: Client) -> None:
    for _ in range(5):
        client.health()
    assert len(client._idle) == 1  # one connection served all five requests


def test_survives_a_server_restart(own_server: Server) -> None:
    own_server.start()
    with Client(own_server.base) as c:
        assert c.health()["status"] == "ok"
        own_server.restart()  # the kept-alive connection is now closed by the other side
        assert c.health()["status"] == "ok"


def test_server_not_running() -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(ClientError) as caught:
        Client(endpoint).health()
    assert caught.value.status == 0
    assert endpoint in caught.value.message
    assert "lambdalite serve" in caught.value.message
    assert "LAMBDALITE_ENDPOINT" in caught.value.message


def test_endpoint_must_be_http() -> None:
    with pytest.raises(ClientError, match="not an http"):
        Client("127.0.0.1:9000")
