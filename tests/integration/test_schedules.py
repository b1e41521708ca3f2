"""Schedules from SAM (`Schedule`, `ScheduleV2`) on a test-clock server: each runs its function as an
async event at the times its expression names, with EventBridge's scheduled event or its Input."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import Server, advance
from tests.integration.test_cli import cli

TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Tick:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: tick
      CodeUri: app/
      Handler: app.handler
      Runtime: python3.11
      Environment: {Variables: {MARKER: "%(marker)s"}}
      Events:
        EveryFive:
          Type: ScheduleV2
          Properties:
            ScheduleExpression: rate(5 minutes)
            Input: '{"job": "five"}'
        EveryMinute:
          Type: Schedule
          Properties:
            Schedule: %(every_minute)s
        Paused:
          Type: Schedule
          Properties:
            Schedule: rate(1 minute)
            Input: '{"job": "never"}'
            Enabled: false
"""
APP = """\
import json, os
def handler(event, context):
    with open(os.environ["MARKER"], "a") as f:
        f.write(json.dumps(event) + "\\n")
"""



def project(root: Path, marker: Path, every_minute: str = "cron(* * * * ? *)") -> Path:
    (root / "app").mkdir(parents=True, exist_ok=True)
    (root / "app" / "app.py").write_text(APP)
    (root / "template.yaml").write_text(TEMPLATE % {"marker": marker, "every_minute": every_minute})
    return root


def events(marker: Path, count: int) -> list[dict]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = [json.loads(x) for x in marker.read_text().splitlines()] if marker.exists() else []
        if len(found) >= count:
            return found
        time.sleep(0.05)
    raise AssertionError(f"fewer than {count} runs: {marker.read_text() if marker.exists() else 'none'}")



def test_schedules_run_their_function_on_the_server_clock(clocked: Server, tmp_path: Path) -> None:
    marker = tmp_path / "runs"
    done = cli(clocked, "deploy", str(project(tmp_path / "app", marker)), "--stack-name", "ticks")
    assert done.returncode == 0, done.stderr + done.stdout
    assert "ignored" not in done.stdout + done.stderr
    listed = cli(clocked, "schedules")
    assert listed.returncode == 0, listed.stderr
    assert "rate(5 minutes)" in listed.stdout and "cron(* * * * ? *)" in listed.stdout and "disabled" in listed.stdout
    assert not marker.exists()
    advance(clocked, 60)
    [first] = events(marker, 1)                                     # the every-minute cron
    assert first["detail-type"] == "Scheduled Event" and first["source"] == "aws.events"
    assert first["resources"] == ["arn:aws:events:us-east-1:000000000000:rule/ticks-TickEveryMinute"]
    assert first["detail"] == {} and first["version"] == "0" and first["time"].endswith(":00Z")
    advance(clocked, 240)                                           # five minutes in all
    runs = events(marker, 6)
    assert {"job": "five"} in runs                                  # ScheduleV2's Input, exactly
    assert {"job": "never"} not in runs                             # a disabled rule never fires
    assert sum(1 for r in runs if r.get("source") == "aws.events") == 5
    done = cli(clocked, "rm", "--stack", "ticks")
    assert done.returncode == 0
    assert requests.get(f"{clocked.base}/_lambdalite/schedules", timeout=10).json()["schedules"] == []


@pytest.mark.parametrize(("expression", "fragment"), [
    ("cron(0 12 * * ? )", "six fields"),
    ("cron(0 25 * * ? *)", "Hours '25'"),
    ("rate(30 seconds)", "at least one minute"),
])
def test_a_bad_schedule_expression_is_a_problem_that_names_the_field(clocked: Server, tmp_path: Path,
                                                                     expression: str, fragment: str) -> None:
    done = cli(clocked, "deploy", str(project(tmp_path / "bad", tmp_path / "m", expression)), "--stack-name", "bad")
    assert done.returncode == 1 and fragment in done.stderr and "TickEveryMinute" in done.stderr, done.stderr
