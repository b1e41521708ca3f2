"""The `lambdalite` command against a real server: as a subprocess, and in-process with CliRunner."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from lambdalite.cli import main
from tests.conftest import LAMBDALITE, Server, create_function, free_port, unique

ADDFIVE = """
def lambda_handler(event, context):
    try:
        return int(event['num'])+5
    except:
        return 0
"""
CHATTY = """
def handler(event, context):
    print("hello from", context.function_name, "with", event)
    return {"seen": event}
"""
FAILS = """
def handler(event, context):
    raise ValueError("nope")
"""


def cli(server: Server | str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Runs `lambdalite ARGS` as the user would, with LAMBDALITE_ENDPOINT pointing at `server`."""
    endpoint = server if isinstance(server, str) else server.base
    env = {**os.environ, "LAMBDALITE_ENDPOINT": endpoint}
    return subprocess.run([LAMBDALITE, *args], input=stdin, capture_output=True, text=True, env=env,
                          timeout=120, check=False)


def wait_for_log_line(server: Server, name: str, wanted: str,
                      *extra: str) -> subprocess.CompletedProcess[str]:
    """Logs are written in batches every 0.2 s: run `lambdalite logs` until `wanted` shows up."""
    deadline = time.monotonic() + 10
    while True:
        done = cli(server, "logs", name, *extra)
        if wanted in done.stdout or time.monotonic() > deadline:
            return done
        time.sleep(0.2)


@pytest.fixture
def addfive(lam) -> str:  # type: ignore[no-untyped-def]
    name = unique("addfive")
    create_function(lam, name, {"lambda_function.py": ADDFIVE}, handler="lambda_function.lambda_handler")
    return name


@pytest.fixture
def chatty(lam) -> str:  # type: ignore[no-untyped-def]
    name = unique("chatty")
    create_function(lam, name, CHATTY)
    return name


def test_invoke_addfive_with_event(server: Server, addfive: str) -> None:
    done = cli(server, "invoke", addfive, "--event", '{"num":"15"}')
    assert (done.returncode, done.stdout, done.stderr) == (0, "20\n", "")
    done = cli(server, "invoke", addfive, "--event", '{"num":"test"}')
    assert (done.returncode, done.stdout) == (0, "0\n")


def test_invoke_with_event_file(server: Server, addfive: str, tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text('{\n  "num": "15"\n}\n')
    done = cli(server, "invoke", addfive, "-e", str(event))
    assert (done.returncode, done.stdout) == (0, "20\n")
    done = cli(server, "invoke", addfive, "--event-file", "-", stdin='{"num": "test"}')
    assert (done.returncode, done.stdout) == (0, "0\n")


def test_invoke_without_event_sends_an_empty_object(server: Server, chatty: str) -> None:
    done = cli(server, "invoke", chatty)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"seen": {}}


def test_invoke_with_qualifier(server: Server, addfive: str) -> None:
    done = cli(server, "invoke", addfive, "--qualifier", "$LATEST", "--event", '{"num": "1"}')
    assert (done.returncode, done.stdout) == (0, "6\n")


def test_function_error_exits_1_with_the_error_printed(server: Server, lam) -> None:  # type: ignore[no-untyped-def]
    name = unique("fails")
    create_function(lam, name, FAILS)
    done = cli(server, "invoke", name, "--event", "{}")
    assert done.returncode == 1
    error = json.loads(done.stdout)
    assert (error["errorType"], error["errorMessage"]) == ("ValueError", "nope")
    assert f"function {name} failed (Unhandled" in done.stderr
    assert "ValueError: nope" in done.stderr
    assert f"lambdalite logs {name}" in done.stderr


def test_log_tail_on_stderr(server: Server, chatty: str) -> None:
    done = cli(server, "invoke", chatty, "--log", "--event", '{"k": 1}')
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"seen": {"k": 1}}
    lines = done.stderr.splitlines()  # a cold start begins with INIT_START, as on AWS
    assert any(line.startswith("START RequestId: ") for line in lines)
    assert lines[-1].startswith("REPORT RequestId: ")
    assert any("hello from " + chatty in line for line in lines)
    assert "START" not in done.stdout


def test_ls_lists_the_function(server: Server, lam) -> None:  # type: ignore[no-untyped-def]
    name = unique("listed")
    create_function(lam, name, CHATTY, MemorySize=256, Timeout=9)
    done = cli(server, "ls")
    assert done.returncode == 0, done.stderr
    header, *rows = done.stdout.splitlines()
    assert header.split() == ["NAME", "RUNTIME", "MEMORY", "TIMEOUT", "LAST", "MODIFIED"]
    row = next(r for r in rows if r.split()[0] == name)
    assert row.split()[1:6] == ["python3.11", "256", "MB", "9", "s"]
    assert row.endswith(" UTC")


def test_logs_show_the_function_lines(server: Server, chatty: str) -> None:
    assert cli(server, "invoke", chatty, "--event", '{"n": 7}').returncode == 0
    done = wait_for_log_line(server, chatty, "REPORT RequestId:")
    assert done.returncode == 0, done.stderr
    assert "START RequestId: " in done.stdout
    assert f"hello from {chatty} with {{'n': 7}}" in done.stdout
    assert "END RequestId: " in done.stdout
    lines = done.stdout.splitlines()
    assert lines.index(next(x for x in lines if x.startswith("START"))) < \
        lines.index(next(x for x in lines if x.startswith("REPORT")))


def test_logs_since(server: Server, chatty: str) -> None:
    assert cli(server, "invoke", chatty).returncode == 0
    assert "REPORT" in wait_for_log_line(server, chatty, "REPORT", "--since", "10m").stdout
    done = cli(server, "logs", chatty, "--since", "2999-01-01T00:00:00Z")
    assert (done.returncode, done.stdout) == (0, "")
    done = cli(server, "logs", chatty, "--since", "10")
    assert done.returncode == 2
    assert "'10' has no unit" in done.stderr


def test_logs_follow_until_ctrl_c(server: Server, chatty: str) -> None:
    env = {**os.environ, "LAMBDALITE_ENDPOINT": server.base}
    follower = subprocess.Popen([LAMBDALITE, "logs", chatty, "--follow"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=env)
    try:
        time.sleep(0.7)  # it has polled at least once and is waiting for new lines
        assert cli(server, "invoke", chatty, "--event", '"followed"').returncode == 0
        assert follower.stdout is not None
        seen = ""
        deadline = time.monotonic() + 10
        while "REPORT RequestId:" not in seen and time.monotonic() < deadline:
            seen += follower.stdout.readline()
        assert "hello from " + chatty + " with followed" in seen
        assert "REPORT RequestId:" in seen
    finally:
        follower.send_signal(signal.SIGINT)
        _, stderr = follower.communicate(timeout=10)
    assert follower.returncode == 0, stderr
    assert "Traceback" not in stderr


def test_rm_deletes(server: Server, lam) -> None:  # type: ignore[no-untyped-def]
    name = unique("doomed")
    create_function(lam, name, CHATTY)
    done = cli(server, "rm", name)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"Deleted function {name} from {server.base}.\n"
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function(FunctionName=name)
    assert name not in cli(server, "ls").stdout
    assert cli(server, "rm", name).returncode == 3


def test_unknown_function_exits_3(server: Server) -> None:
    name = unique("missing")
    for args in (("invoke", name), ("logs", name), ("rm", name)):
        done = cli(server, *args)
        assert done.returncode == 3, args
        assert done.stdout == ""
        assert "Function not found" in done.stderr and name in done.stderr
        assert server.base in done.stderr
        assert "HTTP 404 ResourceNotFoundException" in done.stderr
        assert "lambdalite ls" in done.stderr
        assert "Traceback" not in done.stderr


def test_server_not_running_exits_3_naming_the_endpoint() -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"
    for args in (("invoke", "anything"), ("ls",), ("logs", "anything"), ("rm", "anything")):
        done = cli(endpoint, *args)
        assert done.returncode == 3, args
        assert f"could not reach the Lambdalite server at {endpoint}" in done.stderr
        assert "lambdalite serve" in done.stderr and "LAMBDALITE_ENDPOINT" in done.stderr
        assert "Traceback" not in done.stderr


def test_bad_event_json_exits_2(server: Server, addfive: str, tmp_path: Path) -> None:
    done = cli(server, "invoke", addfive, "--event", "{num: 15}")
    assert done.returncode == 2
    assert "--event is not valid JSON" in done.stderr and "line 1 column 2" in done.stderr
    bad = tmp_path / "bad.json"
    bad.write_text('{"num": "15",}')
    done = cli(server, "invoke", addfive, "-e", str(bad))
    assert done.returncode == 2
    assert f"the event file {bad} is not valid JSON" in done.stderr
    done = cli(server, "invoke", addfive, "--event", "{}", "-e", str(bad))
    assert done.returncode == 2
    assert "not both" in done.stderr
    done = cli(server, "invoke", addfive, "-e", str(tmp_path / "absent.json"))
    assert done.returncode == 2


def test_endpoint_option_wins_over_the_environment(server: Server, addfive: str) -> None:
    unreachable = f"http://127.0.0.1:{free_port()}"
    done = cli(unreachable, "invoke", addfive, "--endpoint", server.base, "--event", '{"num": "2"}')
    assert (done.returncode, done.stdout) == (0, "7\n")


def test_in_process_with_cli_runner(server: Server, addfive: str) -> None:
    runner = CliRunner()
    env = {"LAMBDALITE_ENDPOINT": server.base}
    result = runner.invoke(main, ["invoke", addfive, "--event", '{"num": "15"}'], env=env)
    assert (result.exit_code, result.stdout) == (0, "20\n")
    result = runner.invoke(main, ["invoke", unique("missing")], env=env)
    assert result.exit_code == 3
    assert "Function not found" in result.stderr
    result = runner.invoke(main, ["ls"], env=env)
    assert result.exit_code == 0 and addfive in result.stdout


VERSIONED = "def handler(event, context):\n    return context.function_version\n"


def test_publish_alias_and_invoke_an_alias(server, lam) -> None:  # type: ignore[no-untyped-def]
    name = unique("cliver")
    create_function(lam, name, VERSIONED)
    done = cli(server, "publish", name, "--description", "first")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1" and "published version 1" in done.stderr
    again = cli(server, "publish", name)
    assert again.stdout.strip() == "1" and "nothing changed since version 1" in again.stderr
    lam.update_function_configuration(FunctionName=name, Timeout=5)   # publish waits for it to settle
    assert cli(server, "publish", name).stdout.strip() == "2"
    done = cli(server, "alias", name, "live", "--version", "1", "--weight", "2=0.25")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{name}:live -> version 1 (75%), version 2 (25%)"
    seen = {cli(server, "invoke", f"{name}:live").stdout.strip() for _ in range(12)}
    assert seen <= {'"1"', '"2"'} and seen
    done = cli(server, "alias", name, "live", "--version", "2")   # an update: the split goes
    assert done.stdout.strip() == f"{name}:live -> version 2"
    assert cli(server, "invoke", name, "-q", "live").stdout.strip() == '"2"'
    assert lam.get_alias(FunctionName=name, Name="live")["Description"] == ""


@pytest.mark.parametrize(("args", "fragment"), [
    (("--version", "1", "--weight", "2"), "give VERSION=SHARE"),
    (("--version", "1", "--weight", "x=0.1"), "give VERSION=SHARE"),
    ((), "Missing option '--version'"),
])
def test_alias_usage_errors(server, args, fragment) -> None:  # type: ignore[no-untyped-def]
    done = cli(server, "alias", "fn", "live", *args)
    assert done.returncode == 2 and fragment in done.stderr


def test_alias_errors_from_the_server_exit_3(server, lam) -> None:  # type: ignore[no-untyped-def]
    name = unique("clibad")
    create_function(lam, name, VERSIONED)
    done = cli(server, "alias", name, "live", "--version", "7")
    assert done.returncode == 3 and f"Function not found: arn:aws:lambda:us-east-1:000000000000:function:{name}:7" \
        in done.stderr
    done = cli(server, "publish", f"nope-{name}")
    assert done.returncode == 3 and "Function not found" in done.stderr


def test_logs_filter_keeps_lines_with_every_term(server: Server, chatty: str) -> None:
    assert cli(server, "invoke", chatty, "--event", '{"n": 8}').returncode == 0
    wait_for_log_line(server, chatty, "{'n': 8}")
    done = cli(server, "logs", chatty, "--filter", 'hello "{\'n\': 8}"')
    assert done.returncode == 0 and done.stdout.strip() == f"hello from {chatty} with {{'n': 8}}"
    assert cli(server, "logs", chatty, "--filter", "REPORT nothing-like-this").stdout == ""
    bad = cli(server, "logs", chatty, "--filter", '"unclosed')
    assert bad.returncode == 2 and "--filter" in bad.stderr
