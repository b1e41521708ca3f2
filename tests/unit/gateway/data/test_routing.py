"""Route matching: reference section 1.2 and traps 1-8, with the AWS-recorded trees."""

from __future__ import annotations

from typing import Any

import pytest

from lambdalite.gateway.data.routing import ANY_METHODS, RouteTable, compile_route_table


def tree(spec: dict[str, list[str]]) -> RouteTable:
    resources: list[dict[str, Any]] = []
    for index, (path, verbs) in enumerate(spec.items()):
        methods = {verb: {"httpMethod": verb, "tag": f"{path} {verb}"} for verb in verbs}
        resource: dict[str, Any] = {"id": f"r{index}", "path": path}
        if methods:
            resource["resourceMethods"] = methods
        resources.append(resource)
    return compile_route_table(resources)


def served(table: RouteTable, verb: str, path: str) -> str | None:
    found = table.match(verb, path)
    return None if found is None else f"{found.resource_path} {found.http_method_key}"


def test_root_and_literal() -> None:
    table = tree({"/": ["GET"], "/hello": ["GET"]})
    assert served(table, "GET", "/") == "/ GET"
    assert served(table, "GET", "") == "/ GET"
    assert served(table, "GET", "/hello") == "/hello GET"


def test_match_carries_resource_and_method() -> None:
    table = tree({"/items/{id}": ["POST"]})
    found = table.match("post", "/items/42")
    assert found is not None
    assert found.resource_id == "r0"
    assert found.resource_path == "/items/{id}"
    assert found.http_method_key == "POST"
    assert found.method["tag"] == "/items/{id} POST"
    assert found.path_parameters == {"id": "42"}


def test_unknown_path_and_wrong_verb_do_not_match() -> None:
    table = tree({"/hello": ["GET"]})
    assert table.match("GET", "/nope") is None
    assert table.match("POST", "/hello") is None


@pytest.mark.parametrize("path", ["/hello/", "/hello//", "/hello"])
def test_trailing_slash_is_ignored(path: str) -> None:
    assert served(tree({"/hello": ["GET"]}), "GET", path) == "/hello GET"


def test_literal_beats_param_beats_greedy() -> None:
    table = tree({"/a/b": ["GET"], "/a/{x}": ["GET"], "/a/{rest+}": ["GET"]})
    assert served(table, "GET", "/a/b") == "/a/b GET"
    assert served(table, "GET", "/a/c") == "/a/{x} GET"
    assert served(table, "GET", "/a/c/d") == "/a/{rest+} GET"


def test_concrete_verb_beats_any() -> None:
    table = tree({"/x": ["ANY", "GET"]})
    found = table.match("GET", "/x")
    assert found is not None and found.http_method_key == "GET"
    assert served(table, "DELETE", "/x") == "/x ANY"


@pytest.mark.parametrize("verb", sorted(ANY_METHODS))
def test_any_stands_for_the_seven_verbs(verb: str) -> None:
    assert served(tree({"/x": ["ANY"]}), verb, "/x") == "/x ANY"


@pytest.mark.parametrize("verb", ["TRACE", "CONNECT", "PROPFIND"])
def test_any_does_not_cover_other_verbs(verb: str) -> None:
    assert tree({"/x": ["ANY"]}).match(verb, "/x") is None


def test_no_automatic_head_or_options() -> None:
    table = tree({"/x": ["GET"]})
    assert table.match("HEAD", "/x") is None
    assert table.match("OPTIONS", "/x") is None


def test_greedy_does_not_match_root() -> None:
    table = tree({"/{proxy+}": ["ANY"]})
    assert table.match("GET", "/") is None
    assert served(table, "GET", "/a") == "/{proxy+} ANY"


def test_greedy_value_keeps_double_slashes_and_drops_trailing_slash() -> None:
    table = tree({"/{proxy+}": ["ANY"]})
    found = table.match("GET", "/proxy-value/")
    assert found is not None and found.path_parameters == {"proxy": "proxy-value"}
    found = table.match("GET", "/proxy-value//double-slash")
    assert found is not None and found.path_parameters == {"proxy": "proxy-value//double-slash"}


def test_path_parameters_are_not_percent_decoded() -> None:
    table = tree({"/api/user/{proxy+}": ["GET"], "/id/{id}": ["GET"]})
    found = table.match("GET", "/api/user/test%2Balias@gmail.com")
    assert found is not None and found.path_parameters == {"proxy": "test%2Balias@gmail.com"}
    found = table.match("GET", "/id/a%20b")
    assert found is not None and found.path_parameters == {"id": "a%20b"}


def test_aws_recorded_tree_options_falls_back_to_proxy() -> None:
    # test_apigateway_common::test_proxy_routing_with_hardcoded_resource_sibling (AWS-recorded)
    table = tree({"/test": ["POST"], "/test/any": ["ANY"], "/{proxy+}": ["OPTIONS"]})
    assert served(table, "OPTIONS", "/test") == "/{proxy+} OPTIONS"
    assert served(table, "POST", "/test") == "/test POST"
    assert served(table, "OPTIONS", "/test/any") == "/test/any ANY"
    assert served(table, "GET", "/test/any") == "/test/any ANY"


def test_aws_recorded_tree_hardcoded_sibling_order() -> None:
    # test_apigateway_common::test_routing_with_hardcoded_resource_sibling_order (AWS-recorded)
    table = tree({"/part1": ["GET"], "/{param+}": ["GET"], "/part1/hardcoded-value": ["GET"]})
    assert served(table, "GET", "/part1") == "/part1 GET"
    assert served(table, "GET", "/part1/hardcoded-value") == "/part1/hardcoded-value GET"
    assert served(table, "GET", "/part1/random-value") == "/{param+} GET"


def test_method_less_intermediate_resources_fall_back_to_proxy() -> None:
    # ministackorg/ministack#1423, measured on AWS
    table = tree({"/{proxy+}": ["ANY"], "/jobs": [], "/jobs/{op}": ["GET"], "/cors_only": ["OPTIONS"]})
    assert served(table, "GET", "/jobs/reboot") == "/jobs/{op} GET"
    assert served(table, "GET", "/jobs") == "/{proxy+} ANY"
    assert served(table, "POST", "/jobs") == "/{proxy+} ANY"
    assert served(table, "POST", "/jobs/reboot") == "/{proxy+} ANY"
    assert served(table, "GET", "/cors_only") == "/{proxy+} ANY"


def test_several_greedy_resources_coexist_most_specific_first() -> None:
    table = tree({"/{proxy+}": ["ANY"], "/parent/{proxy+}": ["ANY"], "/parent/{child}/{proxy+}": ["ANY"]})
    assert served(table, "GET", "/x/y") == "/{proxy+} ANY"
    assert served(table, "GET", "/parent/y") == "/parent/{proxy+} ANY"
    found = table.match("GET", "/parent/c/d/e")
    assert found is not None
    assert found.resource_path == "/parent/{child}/{proxy+}"
    assert found.path_parameters == {"child": "c", "proxy": "d/e"}


def test_verb_mismatch_on_literal_falls_back_to_param_sibling() -> None:
    # UNCONFIRMED on AWS (floci-io/floci#3399 says yes); the pair rule gives it.
    table = tree({"/users/me": ["PATCH"], "/users/{id}": ["GET"]})
    assert served(table, "GET", "/users/me") == "/users/{id} GET"
    assert served(table, "PATCH", "/users/me") == "/users/me PATCH"


def test_param_does_not_match_an_empty_segment() -> None:
    table = tree({"/a/{id}/b": ["GET"]})
    assert table.match("GET", "/a//b") is None
    assert served(table, "GET", "/a/1/b") == "/a/{id}/b GET"


def test_nested_params_collect_all_values() -> None:
    table = tree({"/orgs/{org}/repos/{repo}": ["GET"]})
    found = table.match("GET", "/orgs/acme/repos/tool")
    assert found is not None and found.path_parameters == {"org": "acme", "repo": "tool"}


def test_literal_match_is_case_sensitive() -> None:
    table = tree({"/Hello": ["GET"]})
    assert table.match("GET", "/hello") is None
    assert served(table, "GET", "/Hello") == "/Hello GET"


def test_greedy_with_children_is_never_served() -> None:
    table = tree({"/{proxy+}/x": ["GET"]})
    assert table.match("GET", "/a/x") is None


def test_root_without_methods_does_not_match() -> None:
    table = compile_route_table([{"id": "root", "path": "/"}])
    assert table.match("GET", "/") is None


def test_lowercase_method_keys_are_accepted() -> None:
    table = compile_route_table([{"id": "r", "path": "/x", "resourceMethods": {"get": {}}}])
    assert served(table, "GET", "/x") == "/x GET"


def test_empty_table_matches_nothing() -> None:
    assert compile_route_table([]).match("GET", "/") is None


def test_fast_path_and_search_agree_for_deep_literals() -> None:
    table = tree({"/a/b/c": ["GET"], "/a/{x}/c": ["POST"]})
    assert served(table, "GET", "/a/b/c") == "/a/b/c GET"
    assert served(table, "POST", "/a/b/c") == "/a/{x}/c POST"


def test_many_routes_match_quickly() -> None:
    spec = {f"/r{i}/{{id}}": ["GET"] for i in range(300)}
    table = tree(spec)
    found = table.match("GET", "/r299/7")
    assert found is not None and found.path_parameters == {"id": "7"}
