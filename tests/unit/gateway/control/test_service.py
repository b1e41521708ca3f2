"""GatewayService over a real SQLite file: the published stage snapshots, listeners, reloading."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdalite.errors import NotFoundException
from lambdalite.gateway.control.service import GatewayService
from lambdalite.gateway.snapshot import DeployedStage
from lambdalite.store import Database

URI = ("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
       "arn:aws:lambda:us-east-1:000000000000:function:addfive/invocations")
TEMPLATE = "{\"num\": \"$input.params('num')\"}"


@pytest.fixture
def db(tmp_path: Path):  # type: ignore[no-untyped-def]
    database = Database(tmp_path / "lambdalite.db")
    yield database
    database.close()


def guide(gw: GatewayService, stage: str | None = "PRD") -> tuple[str, str]:
    api = gw.create_rest_api({"name": "guide"})
    resource = gw.create_resource(api["id"], api["rootResourceId"], {"pathPart": "addfive"})["id"]
    gw.put_method(api["id"], resource, "GET", {"authorizationType": "NONE",
                                               "requestParameters": {"method.request.querystring.num": False}})
    gw.put_integration(api["id"], resource, "GET", {"type": "AWS", "integrationHttpMethod": "POST", "uri": URI,
                                                    "requestTemplates": {"application/json": TEMPLATE}})
    gw.put_method_response(api["id"], resource, "GET", "200", {})
    gw.put_integration_response(api["id"], resource, "GET", "200", {"selectionPattern": ""})
    if stage:
        gw.create_deployment(api["id"], {"stageName": stage})
    return api["id"], resource


def test_a_deployed_stage_is_published_with_everything_embedded(db: Database) -> None:
    gw = GatewayService(db, "us-east-1", "000000000000")
    calls: list[int] = []
    gw.on_change(lambda: calls.append(1))
    api_id, resource = guide(gw)
    assert calls == [1]  # only the deployment to a stage changed what is served
    stage = gw.deployed_stages()[(api_id, "PRD")]
    assert isinstance(stage, DeployedStage)
    assert (stage.api_name, stage.stage_name, stage.variables, stage.binary_media_types) == ("guide", "PRD", {}, [])
    method = next(r for r in stage.resources if r["path"] == "/addfive")["resourceMethods"]["GET"]
    assert method["methodIntegration"]["integrationResponses"]["200"] == {"statusCode": "200", "selectionPattern": ""}
    assert method["methodResponses"] == {"200": {"statusCode": "200"}}
    assert set(stage.models) == {"Empty", "Error"} and stage.validators == {}
    assert TEMPLATE in stage.templates  # compiled once, at deployment
    with pytest.raises(TypeError):
        stage.templates[TEMPLATE] = None  # type: ignore[index]


def test_edits_after_a_deployment_do_not_reach_the_stage(db: Database) -> None:
    gw = GatewayService(db, "us-east-1", "000000000000")
    api_id, resource = guide(gw)
    before = gw.deployed_stages()
    gw.delete_method(api_id, resource, "GET")
    gw.update_rest_api(api_id, [{"op": "add", "path": "/binaryMediaTypes/image~1png"}])
    stage = gw.deployed_stages()[(api_id, "PRD")]
    assert "resourceMethods" in next(r for r in stage.resources if r["path"] == "/addfive")
    assert stage.binary_media_types == [] and before[(api_id, "PRD")] == stage
    gw.update_stage(api_id, "PRD", [{"op": "replace", "path": "/variables/fn", "value": "addfive"}])
    assert gw.deployed_stages()[(api_id, "PRD")].variables == {"fn": "addfive"}
    assert before[(api_id, "PRD")].variables == {}  # the old snapshot is untouched


def test_a_broken_template_is_a_warning_and_left_out_of_the_compiled_ones(db: Database) -> None:
    gw = GatewayService(db, "us-east-1", "000000000000")
    api_id, resource = guide(gw, stage=None)
    gw.put_integration(api_id, resource, "GET", {"type": "AWS", "integrationHttpMethod": "POST", "uri": URI,
                                                 "requestTemplates": {"application/json": "#if($x"}})
    deployment, warnings = gw.create_deployment(api_id, {"stageName": "dev"})
    assert len(warnings) == 1 and "GET /addfive integration request" in warnings[0]
    assert "#if($x" not in gw.deployed_stages()[(api_id, "dev")].templates


def test_reloading_from_the_store_publishes_the_same_stages(db: Database) -> None:
    gw = GatewayService(db, "us-east-1", "000000000000")
    api_id, _ = guide(gw)
    again = GatewayService(db, "us-east-1", "000000000000")
    again.load()
    old, new = gw.deployed_stages()[(api_id, "PRD")], again.deployed_stages()[(api_id, "PRD")]
    assert (old.resources, old.deployment_id, old.models) == (new.resources, new.deployment_id, new.models)
    assert TEMPLATE in new.templates


def test_stages_by_api_and_deleting_an_api(db: Database) -> None:
    gw = GatewayService(db, "us-east-1", "000000000000")
    first, _ = guide(gw, stage="PRD")
    second, _ = guide(gw, stage="PRD")
    third, _ = guide(gw, stage="solo")
    assert gw.stages_by_api() == {first: {"PRD"}, second: {"PRD"}, third: {"solo"}}
    gw.delete_rest_api(second)
    assert (second, "PRD") not in gw.deployed_stages()
    assert gw.api_ids() == {first, third}
    with pytest.raises(NotFoundException):
        gw.get_rest_api(second)


def test_an_unchanged_stage_keeps_its_snapshot_object(db: Database) -> None:
    gw = GatewayService(db, "us-east-1", "000000000000")
    api_id, _ = guide(gw)
    other, _ = guide(gw, stage="dev")
    before = gw.deployed_stages()
    gw.update_stage(other, "dev", [{"op": "replace", "path": "/variables/x", "value": "1"}])
    after = gw.deployed_stages()
    assert after is not before and after[(api_id, "PRD")] is before[(api_id, "PRD")]
    assert after[(other, "dev")] is not before[(other, "dev")]
