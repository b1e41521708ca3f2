"""Stage URLs, built and read back in one place (DESIGN.md, "One server, one port")."""

from __future__ import annotations

import pytest

from lambdalite.gateway.urls import (
    full_stage_path,
    full_stage_url,
    parse_full_path,
    parse_short_path,
    short_owners,
    short_stage_url,
    stage_url,
)


def test_urls_are_built_with_one_slash_between_parts() -> None:
    assert full_stage_url("http://h:9/", "abc", "PRD") == "http://h:9/restapis/abc/PRD/_user_request_/"
    assert full_stage_url("http://h:9", "abc", "PRD", "addfive") == "http://h:9/restapis/abc/PRD/_user_request_/addfive"
    assert short_stage_url("http://h:9/", "PRD", "/addfive") == "http://h:9/PRD/addfive"
    assert full_stage_path("abc", "PRD", "/x") == "/restapis/abc/PRD/_user_request_/x"
    assert stage_url("http://h", "abc", "PRD", True, "/x") == "http://h/PRD/x"
    assert stage_url("http://h", "abc", "PRD", False, "/x") == "http://h/restapis/abc/PRD/_user_request_/x"


@pytest.mark.parametrize(("path", "parsed"), [
    ("/restapis/abc/PRD/_user_request_/addfive", ("abc", "PRD", "/addfive")),
    ("/restapis/abc/PRD/_user_request_/", ("abc", "PRD", "/")),
    ("/restapis/abc/PRD/_user_request_", ("abc", "PRD", "/")),
    ("/restapis/abc/PRD/_user_request_/a//b/", ("abc", "PRD", "/a//b/")),
    ("/restapis/abc/resources", None),
    ("/restapis/abc/PRD/other/x", None),
    ("/elsewhere/abc/PRD/_user_request_/x", None),
])
def test_full_paths_are_read_back(path: str, parsed: tuple[str, str, str] | None) -> None:
    assert parse_full_path(path) == parsed


def test_a_built_url_reads_back_to_its_parts() -> None:
    path = full_stage_path("k2j4l5m6n7", "dev", "/a/b?c")
    assert parse_full_path(path) == ("k2j4l5m6n7", "dev", "/a/b?c")


def test_short_paths_split_at_the_first_segment() -> None:
    assert parse_short_path("/PRD/addfive") == ("PRD", "/addfive")
    assert parse_short_path("/PRD") == ("PRD", "/")
    assert parse_short_path("/") == ("", "/")


def test_the_oldest_stage_of_a_name_owns_its_short_url() -> None:
    stages = [("second", "Prod", 20.0), ("first", "Prod", 10.0), ("solo", "PRD", 5.0), ("bbb", "dev", 1.0),
              ("aaa", "dev", 1.0)]
    assert short_owners(stages) == {"Prod": "first", "PRD": "solo", "dev": "aaa"}
    assert short_owners([s for s in stages if s[0] != "first"])["Prod"] == "second"   # the owner went
    assert short_owners([]) == {}
