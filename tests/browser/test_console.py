"""The guide's GUI steps in a real Chromium: create addfive in the form, save test_1 and test_2, run
them and read 20 and 0; its logs show the REPORT line; the API page shows the stage's invoke URL;
names with HTML in them are shown as text."""

from __future__ import annotations

import json
from typing import Any

import requests
from playwright.sync_api import expect

from tests.browser.conftest import shot
from tests.conftest import Server, boto_client, create_function, unique
from tests.integration.test_test_invoke import guide_api

ADDFIVE = """import json


def lambda_handler(event, context):
    try:
        return int(event['num']) + 5
    except Exception:
        return 0
"""


def test_the_guides_function_steps_in_the_console(server: Server, page: Any) -> None:
    name = unique("addfive")
    console = f"{server.base}/_lambdalite/console"
    page.goto(f"{console}/functions/new")
    page.fill('[data-testid="function-name"]', name)
    page.fill('[data-testid="code-editor"]', ADDFIVE)
    page.click('[data-testid="create"]')
    page.wait_for_url(f"**/functions/{name}")
    for event, payload in (("test_1", {"num": "15"}), ("test_2", {"num": "abc"})):
        page.fill('[data-testid="event-name"]', event)
        page.fill('[data-testid="event-json"]', json.dumps(payload))
        page.click('[data-testid="save-event"]')
        page.wait_for_selector(f'[data-testid="run-event-{event}"]')
    result = page.locator('[data-testid="test-result"]')
    page.click('[data-testid="run-event-test_1"]')
    expect(page.locator('[data-testid="test-response"]')).to_have_text("20")
    assert "Execution result: succeeded" in result.inner_text()
    for label in ("Request ID", "Duration", "Billed Duration", "Memory Size", "Max Memory Used", "Init Duration"):
        assert label in result.inner_text()
    shot(page, "console-addfive-test_1")
    page.click('[data-testid="run-event-test_2"]')
    expect(page.locator('[data-testid="test-response"]')).to_have_text("0")
    assert page.locator('[data-testid="test-response"]').inner_text().strip() == "0"
    page.locator('[data-testid="logs"]').filter(has_text="REPORT RequestId").wait_for(timeout=15000)
    page.reload()
    assert page.locator('[data-testid="charts"] svg').count() == 3
    assert page.locator('[data-testid="charts"] svg rect').count() >= 1   # this minute's two calls
    page.goto(f"{console}/")
    assert page.locator(f'a[href$="/functions/{name}"]').count() == 1
    shot(page, "console-functions")
    assert page.errors == []


def test_invalid_event_json_is_refused_with_where_it_broke(server: Server, page: Any) -> None:
    lam = boto_client(server.base)
    name = unique("echo")
    from tests.conftest import create_function
    create_function(lam, name, "def handler(e, c):\n    return e\n")
    page.goto(f"{server.base}/_lambdalite/console/functions/{name}")
    page.fill('[data-testid="event-name"]', "broken")
    page.fill('[data-testid="event-json"]', '{"num": 5,\n "x": }')
    page.click('[data-testid="save-event"]')
    message = page.locator('[data-testid="event-message"]')
    message.filter(has_text="Not JSON").wait_for()
    assert "line 2" in message.inner_text()
    saved = requests.get(f"{server.base}/_lambdalite/functions/{name}/test-events", timeout=10).json()
    assert saved["testEvents"] == {}


def test_html_in_names_events_and_logs_is_shown_as_text(server: Server, page: Any) -> None:
    lam = boto_client(server.base)
    name = unique("xss")
    create_function(lam, name, "def handler(e, c):\n    print('<img src=x onerror=alert(1)>')\n"
                               "    return '<script>alert(2)</script>'\n")
    requests.put(f"{server.base}/_lambdalite/functions/{name}/test-events/evil", data='{"<b>": "<i>x</i>"}',
                 headers={"Content-Type": "application/json"}, timeout=10)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{server.base}/_lambdalite/console/functions/{name}")
    page.click('[data-testid="run-event-evil"]')
    page.locator('[data-testid="test-response"]').filter(has_text="<script>").wait_for()
    page.locator('[data-testid="logs"]').filter(has_text="<img").wait_for(timeout=15000)
    assert dialogs == [] and page.locator("img[src=x]").count() == 0 and page.errors == []


def test_the_api_page_shows_the_stage_and_tests_the_guides_method(server: Server, page: Any) -> None:
    """The guide's API (query string num, its mapping template into addfive) on the API page: the stage's
    invoke URL, the method's boxes, and its Test form (TestInvokeMethod) answering 10 for num=5."""
    apigw, api, _ = guide_api(server)
    stage = unique("st")
    apigw.create_deployment(restApiId=api, stageName=stage)
    page.goto(f"{server.base}/_lambdalite/console/apis/{api}")
    url = page.locator(f'[data-testid="invoke-url-{stage}"]').inner_text()
    assert url.startswith(server.base) and stage in url
    assert "method.request.querystring.num" in page.content() and "$input.params" in page.content()
    page.click("details.method summary")
    page.fill('[data-testid="test-path"]', "/addfive?num=5")
    page.click('[data-testid="test-method"]')
    expect(page.locator('[data-testid="test-method-body"]')).to_have_text("10")
    result = page.locator('[data-testid="test-method-result"]').inner_text()
    assert "Status 200" in result and '{"num": "5"}' in result   # the event the function got
    shot(page, "console-api")
    page.fill('[data-testid="edit-template"]', '{"num": "$input.params(\'num\')0"}')   # num=5 becomes 50
    page.click('[data-testid="save-template"]')
    page.wait_for_load_state("load")
    page.click("details.method summary")
    page.fill('[data-testid="test-path"]', "/addfive?num=5")
    page.click('[data-testid="test-method"]')
    expect(page.locator('[data-testid="test-method-body"]')).to_have_text("55")
    assert page.errors == []


def test_a_browser_at_the_root_is_sent_to_the_console(server: Server) -> None:
    r = requests.get(server.base + "/", headers={"Accept": "text/html"}, allow_redirects=False, timeout=10)
    assert r.status_code == 302 and r.headers["location"] == "/_lambdalite/console/"
    r = requests.get(server.base + "/", allow_redirects=False, timeout=10)
    assert r.status_code == 403   # API clients keep API Gateway's answer


def test_on_a_server_with_keys_the_console_opens_with_a_one_time_link(tmp_path: Any, page: Any) -> None:
    from tests.integration.test_signed import CREDS, client, run_cli

    srv = Server(tmp_path / "home", env=CREDS)
    srv.home.mkdir()
    srv.start()
    try:
        console = f"{srv.base}/_lambdalite/console/"
        assert requests.get(console, timeout=10).status_code == 403   # no signature, no session
        lam = client(srv.base)
        name = unique("keyed")
        create_function(lam, name, "def handler(e, c):\n    return e['num'] + 5\n")
        done = run_cli(srv, "console")
        assert done.returncode == 0, done.stderr
        link = done.stdout.strip()
        assert link.startswith(f"{srv.base}/_lambdalite/console/login?token=")
        page.goto(link)
        page.wait_for_url(console)
        page.goto(f"{console}functions/{name}")
        page.fill('[data-testid="event-name"]', "five")
        page.fill('[data-testid="event-json"]', '{"num": 5}')
        page.click('[data-testid="run-form-event"]')
        expect(page.locator('[data-testid="test-response"]')).to_have_text("10")
        assert page.errors == []
        assert requests.get(link, timeout=10, allow_redirects=False).status_code == 403   # used once
        cookie = next(c for c in page.context.cookies() if c["name"] == "lambdalite_console")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        jar = {"lambdalite_console": cookie["value"]}
        invoke = f"{srv.base}/2015-03-31/functions/{name}/invocations"
        assert requests.post(invoke, data=b'{"num": 1}', cookies=jar, timeout=10).status_code == 403   # no Origin
        assert requests.post(invoke, data=b'{"num": 1}', cookies=jar, timeout=10,
                             headers={"Origin": "http://evil.example"}).status_code == 403
        assert requests.post(invoke, data=b'{"num": 1}', cookies=jar, timeout=10,
                             headers={"Origin": srv.base}).text == "6"
        assert requests.get(console, cookies={"lambdalite_console": "forged"}, timeout=10).status_code == 403
    finally:
        srv.stop()


def test_the_guides_api_is_built_from_scratch_in_the_console(server: Server, page: Any) -> None:
    """The guide's API Gateway steps in the console: a REST API, the resource addfive, GET with the
    query string num and the mapping template into the function, Deploy API to a stage; the invoke URL
    answers 10 for num=5."""
    lam = boto_client(server.base)
    fn = unique("addfive")
    create_function(lam, fn, ADDFIVE, handler="app.lambda_handler")
    page.goto(f"{server.base}/_lambdalite/console/apis")
    page.fill('[data-testid="api-name"]', unique("guide"))
    page.click('[data-testid="create-api"]')
    page.wait_for_url("**/apis/*")
    page.fill('[data-testid="resource-part"]', "addfive")
    page.click('[data-testid="create-resource"]')
    form = page.locator('[data-testid="method-form-/addfive"]')
    form.wait_for(state="attached")
    page.locator("details.new-method", has=form).locator("summary").click()
    form.locator('[data-testid="method-query"]').fill("num")
    form.locator('[data-testid="method-function"]').fill(fn)
    form.locator('[data-testid="method-template"]').fill('{"num": "$input.params(\'num\')"}')
    form.locator('[data-testid="create-method"]').click()
    page.locator("details.method summary").wait_for()
    stage = unique("PRD")
    page.fill('[data-testid="deploy-stage"]', stage)
    page.click('[data-testid="deploy-api"]')
    link = page.locator(f'[data-testid="invoke-url-{stage}"]')
    link.wait_for()
    answer = requests.get(link.inner_text() + "addfive", params={"num": "5"}, timeout=30)
    assert answer.status_code == 200 and answer.text == "10"
    assert page.errors == []


def test_a_stacks_page_has_its_resources_and_outputs(server: Server, page: Any, tmp_path: Any) -> None:
    from lambdalite.client import Client

    app = tmp_path / "app"
    (app / "src").mkdir(parents=True)
    (app / "src" / "app.py").write_text("def handler(e, c):\n    return {'statusCode': 200, 'body': 'hi'}\n")
    (app / "template.yaml").write_text(
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  Hi:\n    Type: AWS::Serverless::Function\n"
        "    Properties:\n      CodeUri: src/\n      Handler: app.handler\n      Runtime: python3.11\n"
        "      Events:\n        Get: {Type: Api, Properties: {Path: /hi, Method: get}}\n"
        "Outputs:\n  HiApi:\n    Value: !Sub 'https://${ServerlessRestApi}.execute-api.${AWS::Region}.amazonaws.com/Prod/hi/'\n")
    stack = unique("stack")
    with Client(server.base) as client:
        client.deploy(app, stack)
    page.goto(f"{server.base}/_lambdalite/console/stacks")
    page.click(f'a[href$="/stacks/{stack}"]')
    url = page.locator('[data-testid="output-HiApi"]').inner_text()
    assert url.startswith(server.base) and requests.get(url, timeout=30).text == "hi"
    assert "AWS::Lambda::Function" in page.content() and "AWS::ApiGateway::RestApi" in page.content()
    assert page.errors == []
