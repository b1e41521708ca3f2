"""execute-api URLs in a stack's Outputs, rewritten to where this server answers."""

from __future__ import annotations

from lambdalite.stacks.urls import rewrite_urls, stage_url

BASE = "http://127.0.0.1:9000"


# -- URLs -----------------------------------------------------------------------------------------------

STAGES = {"abcdefghij": {"Prod", "Stage"}, "klmnopqrst": {"Prod", "PRD"}, "uvwxyz0123": {"dev"}}
OWNERS = {"Prod": "klmnopqrst", "Stage": "abcdefghij", "PRD": "klmnopqrst", "dev": "uvwxyz0123"}


def test_the_owner_of_a_stage_name_gets_the_short_url() -> None:
    url = "https://uvwxyz0123.execute-api.us-east-1.amazonaws.com/dev/items/1"
    assert rewrite_urls(url, BASE, STAGES, OWNERS) == f"{BASE}/dev/items/1"


def test_a_later_api_with_the_same_stage_name_gets_the_full_url() -> None:
    url = "https://abcdefghij.execute-api.us-east-1.amazonaws.com/Prod/hello/"
    assert rewrite_urls(url, BASE, STAGES, OWNERS) == f"{BASE}/restapis/abcdefghij/Prod/_user_request_/hello/"


def test_url_inside_text_and_without_scheme() -> None:
    text = "see https://klmnopqrst.execute-api.eu-west-1.amazonaws.com.cn/PRD/addfive?num=5 now"
    assert rewrite_urls(text, BASE, STAGES, OWNERS) == f"see {BASE}/PRD/addfive?num=5 now"
    assert rewrite_urls("uvwxyz0123.execute-api.us-east-1.amazonaws.com", BASE, STAGES, OWNERS) == "127.0.0.1:9000"
    assert rewrite_urls("uvwxyz0123.execute-api.us-east-1.amazonaws.com/dev/", BASE, STAGES, OWNERS) == \
        "127.0.0.1:9000/dev/"


def test_unknown_apis_and_other_text_stay() -> None:
    for text in ("https://zzzzzzzzzz.execute-api.us-east-1.amazonaws.com/Prod/",
                 "arn:aws:lambda:us-east-1:000000000000:function:addfive", ""):
        assert rewrite_urls(text, BASE, STAGES, OWNERS) == text


def test_stage_url() -> None:
    assert stage_url(BASE + "/", "abcdefghij", "dev", {"dev": "abcdefghij"}) == f"{BASE}/dev/"
    assert stage_url(BASE, "abcdefghij", "dev", {"dev": "klmnopqrst"}, "x") == \
        f"{BASE}/restapis/abcdefghij/dev/_user_request_/x"
    assert stage_url(BASE, "abcdefghij", "dev", {}, "x") == f"{BASE}/restapis/abcdefghij/dev/_user_request_/x"


def test_the_trailing_slash_is_kept_exactly_as_the_template_has_it() -> None:
    for given, want in (("/dev", f"{BASE}/dev"), ("/dev/", f"{BASE}/dev/"),
                        ("/Prod", f"{BASE}/restapis/abcdefghij/Prod/_user_request_"),
                        ("/Prod/", f"{BASE}/restapis/abcdefghij/Prod/_user_request_/")):
        api = "uvwxyz0123" if given.startswith("/dev") else "abcdefghij"
        assert rewrite_urls(f"https://{api}.execute-api.us-east-1.amazonaws.com{given}", BASE, STAGES, OWNERS) == want
    http = {"httpapi001": {"$default", "live"}}
    for given, want in (("", BASE), ("/", BASE + "/"), ("/live", f"{BASE}/httpapis/httpapi001/live/_user_request_"),
                        ("/live/", f"{BASE}/httpapis/httpapi001/live/_user_request_/"),
                        ("/items", BASE + "/items")):
        assert rewrite_urls(f"https://httpapi001.execute-api.us-east-1.amazonaws.com{given}", BASE, {}, {},
                            http, "httpapi001") == want
