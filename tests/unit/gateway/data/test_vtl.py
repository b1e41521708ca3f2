"""Mapping templates: reference section 4, traps 24-28, and the AWS-recorded renderings."""

from __future__ import annotations

import json
from typing import Any

import airspeed
import pytest

from lambdalite.errors import TemplateRenderError, TemplateSyntaxError
from lambdalite.gateway.data.vtl import (
    MISSING,
    CompiledTemplate,
    ContextOverrides,
    VtlContext,
    compile_template,
    escape_javascript,
    jsonpath_find,
    url_encode,
)

GUIDE_TEMPLATE = """{"num": "$input.params('num')"}"""


def render(text: str, **variables: Any) -> str:
    return compile_template(text).render(VtlContext(**variables))


# ---- the guide ---------------------------------------------------------------------------------


def test_guide_template_with_num() -> None:
    assert render(GUIDE_TEMPLATE, query={"num": "5"}) == '{"num": "5"}'


def test_guide_template_without_num() -> None:
    assert render(GUIDE_TEMPLATE) == '{"num": ""}'


def test_guide_template_with_text() -> None:
    assert json.loads(render(GUIDE_TEMPLATE, query={"num": "test"})) == {"num": "test"}


# ---- $input.params -----------------------------------------------------------------------------


def test_params_searches_path_then_query_then_header() -> None:
    variables = {"path_params": {"x": "p"}, "query": {"x": "q", "y": "q"}, "headers": {"x": "h", "y": "h", "z": "h"}}
    assert render("$input.params('x') $input.params('y') $input.params('z')", **variables) == "p q h"


def test_params_header_lookup_is_case_insensitive() -> None:
    assert render("$input.params('content-type')", headers={"Content-Type": "text/plain"}) == "text/plain"


def test_params_maps() -> None:
    variables = {"path_params": {"id": "7"}, "query": {"q": "1"}, "headers": {"H": "v"}}
    text = "$input.params().path.id $input.params().querystring.q $input.params().header.H $input.params().header.nope."
    assert render(text, **variables) == "7 1 v ."


def test_passthrough_style_iteration_over_params() -> None:
    text = (
        "#set($allParams = $input.params())"
        "#foreach($type in $allParams.keySet())#set($params = $allParams.get($type))"
        '"$type": {#foreach($name in $params.keySet())"$name": "$util.escapeJavaScript($params.get($name))"'
        "#if($foreach.hasNext),#end#end}#if($foreach.hasNext),#end#end"
    )
    got = render(text, query={"num": "5"}, headers={"Accept": "*/*"})
    assert json.loads("{" + got + "}") == {"path": {}, "querystring": {"num": "5"}, "header": {"Accept": "*/*"}}


# ---- $input.body / json / path -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [("", "{}"), ('{"some": "value"}', '{"some": "value"}'), ("some raw data", "some raw data")],
)
def test_input_body_recorded(body: str, expected: str) -> None:
    # test_input_body_formatting (AWS-recorded): an empty body reads as {}
    assert render("#set($result = $input.body)$result", body=body) == expected
    assert (
        render("Action=SendMessage&MessageBody=$input.body", body=body) == f"Action=SendMessage&MessageBody={expected}"
    )


@pytest.mark.parametrize("body", ["", '{"testAccess": "x"}', "raw"])
def test_input_body_attribute_is_not_a_lookup(body: str) -> None:
    assert render("[$input.body.testAccess]", body=body) == "[]"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("", "EncodedBody=%7B%7D&EncodedBodyAccess="),
        ('{"some": "value"}', "EncodedBody=%7B%22some%22%3A+%22value%22%7D&EncodedBodyAccess="),
        ("some raw data", "EncodedBody=some+raw+data&EncodedBodyAccess="),
    ],
)
def test_url_encode_recorded(body: str, expected: str) -> None:
    text = "EncodedBody=$util.urlEncode($input.body)&EncodedBodyAccess=$util.urlEncode($input.body.testAccess)"
    assert render(text, body=body) == expected


SET = "#set($result = $input.path('$.json'))"
PATH_CASES = [
    (SET + "$result", {"json": {"foo": "bar"}}, "{foo=bar}"),
    (SET + "$result", {"json": [{"foo": "bar"}]}, '[{"foo":"bar"}]'),
    (SET + "$result.nested", {"json": {"nested": {"foo": "bar"}}}, "{foo=bar}"),
    (SET + "$result.nested", {"json": {"nested": [{"foo": "bar"}]}}, '[{"foo":"bar"}]'),
    (SET + "$result[0]", {"json": [{"foo": "bar"}]}, "{foo=bar}"),
    (SET + "$result[0]", {"json": [[{"foo": "bar"}]]}, '[{"foo":"bar"}]'),
    (SET + "$result", {"json": {"foo": [{"nested": "bar"}]}}, '{foo=[{"nested":"bar"}]}'),
    (
        SET + "$result",
        {"json": {"bigger": "dict", "to": "test", "with": "separators"}},
        "{bigger=dict, to=test, with=separators}",
    ),
    (SET + "$result.toString()", {"json": {"foo": "bar"}}, "{foo=bar}"),
    (SET + "$result.toString()", {"json": {"list": [{"foo": "bar"}]}}, '{list=[{"foo":"bar"}]}'),
]  # fmt: skip


@pytest.mark.parametrize(("text", "body", "expected"), PATH_CASES)
def test_input_path_formatting_recorded(text: str, body: Any, expected: str) -> None:
    # test_apigateway_common::test_input_path_template_formatting (AWS-recorded)
    assert render(text, body=json.dumps(body)) == expected


NULL_PROBE = (
    '{"body": $result, "nested": $result.nested, "isNull": #if( $result == $null )"true"#else"false"#end, '
    '"isEmptyString": #if( $result == "" )"true"#else"false"#end}'
)


def test_input_path_missing_is_null_and_empty_recorded() -> None:
    text = "#set($result = $input.path('$.nonExisting'))" + NULL_PROBE
    assert render(text) == '{"body": , "nested": , "isNull": "true", "isEmptyString": "true"}'


def test_input_path_empty_list_recorded() -> None:
    text = "#set($result = $input.path('$.json.listValue'))" + NULL_PROBE
    got = render(text, body='{"json": {"listValue": []}}')
    assert got == '{"body": [], "nested": , "isNull": "false", "isEmptyString": "false"}'


def test_input_path_json_null_recorded() -> None:
    text = "#set($result = $input.path('$.json.listValue'))" + NULL_PROBE
    got = render(text, body='{"json": {"listValue": null}}')
    assert got == '{"body": , "nested": , "isNull": "true", "isEmptyString": "true"}'


def test_input_path_scalars_and_navigation() -> None:
    body = json.dumps({"a": {"b": 5, "flag": True, "s": "x"}, "pets": [1, 2, 3], "key-with-dash": "d"})
    text = "$input.path('$.a.b') $input.path('$.a.flag') $input.path('$.a.s') $input.path('$.pets').size()"
    assert render(text, body=body) == "5 true x 3"
    assert render("$input.path('$')['key-with-dash'] $input.path('$.pets').get(1)", body=body) == "d 2"


def test_input_path_map_size_works_unlike_localstack() -> None:
    assert render("$input.path('$.things').size()", body='{"things": {"a": 1, "b": 2}}') == "2"


def test_input_json() -> None:
    body = json.dumps({"a": {"b": [1, 2]}, "s": "x", "n": None})
    assert render("$input.json('$.a')", body=body) == '{"b":[1,2]}'
    assert render("$input.json('$.s')", body=body) == '"x"'
    assert render("$input.json('$.n')", body=body) == "null"
    assert render("$input.json('$')", body="") == "{}"


def test_input_json_missing_path_renders_empty_json_string() -> None:
    # LocalStack's choice; AWS UNCONFIRMED
    assert render("$input.json('$.missing')", body='{"a": 1}') == '""'
    assert render("$input.json('$.a')", body="not json") == '""'


def test_input_json_keeps_unicode() -> None:
    assert render("$input.json('$.s')", body='{"s": "é"}') == '"é"'


def test_invalid_jsonpath_is_a_render_error() -> None:
    with pytest.raises(TemplateRenderError):
        render("$input.json('$.a[')", body="{}")


# ---- JSONPath ----------------------------------------------------------------------------------

DOC = {"a": {"b": [{"c": 1}, {"c": 2}]}, "x-y": "dash", "list": [10, 20, 30]}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$", DOC),
        ("$.a.b[0].c", 1),
        ("$.a.b[-1].c", 2),
        ("$['x-y']", "dash"),
        ('$["x-y"]', "dash"),
        ("$.a.b[*].c", [1, 2]),
        ("$.list[*]", [10, 20, 30]),
        ("$..c", [1, 2]),
        ("$.list.*", [10, 20, 30]),
        ("a.b[1].c", 2),
        ("$.list[5]", None),
        ("$.nope.deeper", None),
        ("$.nope[*]", []),
    ],
)
def test_jsonpath_subset(path: str, expected: Any) -> None:
    found = jsonpath_find(DOC, path)
    assert (None if found is MISSING else found) == expected


# ---- $util -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("it's", "it\\'s"),
        ('say "hi"', 'say \\"hi\\"'),
        ("a\\b", "a\\\\b"),
        ("line\nnext\ttab\r", "line\\nnext\\ttab\\r"),
        ("a/b", "a\\/b"),
        ("é", "\\u00E9"),
        ("\x01", "\\u0001"),
        ("😀", "\\uD83D\\uDE00"),
        ("plain", "plain"),
    ],
)
def test_escape_javascript(text: str, expected: str) -> None:
    assert escape_javascript(text) == expected


def test_escape_javascript_in_template_and_the_docs_replace_all_idiom() -> None:
    text = """$util.escapeJavaScript($input.params('q')).replaceAll("\\\\'","'")"""
    assert render(text, query={"q": "it's"}) == "it's"
    assert render("[$util.escapeJavaScript($input.params('none'))]") == "[]"


@pytest.mark.parametrize(("text", "expected"), [("a b", "a+b"), ("{", "%7B"), ("*~", "*%7E"), ("é", "%C3%A9")])
def test_url_encode_java_semantics(text: str, expected: str) -> None:
    assert url_encode(text) == expected


def test_url_decode_and_base64() -> None:
    assert render("$util.urlDecode('a+b%21')") == "a b!"
    assert render("$util.base64Encode('hi')") == "aGk="
    assert render("$util.base64Decode('aGk=')") == "hi"


def test_parse_json_navigation() -> None:
    text = "#set($m = $util.parseJson($input.path('$.errorMessage')))$m.key2.arr[0] $m.key1"
    body = json.dumps({"errorMessage": json.dumps({"key1": "v", "key2": {"arr": ["first"]}})})
    assert render(text, body=body) == "first v"


def test_parse_json_invalid_is_a_render_error() -> None:
    with pytest.raises(TemplateRenderError):
        render("$util.parseJson('{bad')")


def test_util_has_no_to_json() -> None:
    # AWS documents no $util.toJson for API Gateway (it is AppSync's): it prints nothing
    assert render("[$util.toJson('x')]") == "[]"


# ---- $context, $stageVariables, overrides ------------------------------------------------------

CONTEXT = {
    "requestId": "rid",
    "stage": "PRD",
    "httpMethod": "GET",
    "resourcePath": "/addfive",
    "identity": {"sourceIp": "203.0.113.9", "apiKey": None},
}


def test_context_values() -> None:
    text = "$context.requestId $context.stage $context.httpMethod $context.resourcePath $context.identity.sourceIp"
    assert render(text, context=CONTEXT) == "rid PRD GET /addfive 203.0.113.9"


def test_null_context_value_prints_empty() -> None:
    assert render('"$context.identity.apiKey"', context=CONTEXT) == '""'


def test_stage_variables() -> None:
    variables = {"stage_variables": {"alias": "live"}}
    assert (
        render("$stageVariables.alias $stageVariables['alias'] ${stageVariables.alias}", **variables)
        == "live live live"
    )
    assert render("#foreach($k in $stageVariables.keySet())$k#end", **variables) == "alias"
    assert render("[$stageVariables.missing]") == "[]"


def test_response_override_is_returned() -> None:
    text = (
        "#set($context.responseOverride.status = 418)"
        "#set($context.responseOverride.header.X-Custom = 'yes')"
        "body"
    )  # fmt: skip
    result = compile_template(text).render_with_overrides(VtlContext(context=CONTEXT))
    assert result.text == "body"
    assert result.overrides.response_status == 418
    assert result.overrides.response_headers == {"X-Custom": "yes"}


@pytest.mark.parametrize("status", ["99", "600", "'abc'", "true"])
def test_response_override_status_outside_range_is_ignored(status: str) -> None:
    text = f"#set($context.responseOverride.status = {status})"
    assert compile_template(text).render_with_overrides(VtlContext()).overrides.response_status is None


def test_request_override_is_returned() -> None:
    text = "#set($context.requestOverride.header.X-A = 'a')#set($context.requestOverride.querystring.q = 'b')"
    overrides = compile_template(text).render_with_overrides(VtlContext()).overrides
    assert overrides.request_headers == {"X-A": "a"} and overrides.request_querystring == {"q": "b"}


def test_overrides_carry_from_request_to_response_template() -> None:
    previous = ContextOverrides(response_status=201, response_headers={"X-A": "a"})
    result = compile_template("$context.responseOverride.status").render_with_overrides(VtlContext(overrides=previous))
    assert result.text == "201" and result.overrides.response_status == 201


def test_other_context_mutations_do_not_leak() -> None:
    context = {"stage": "PRD"}
    compile_template("#set($context.stage = 'x')").render(VtlContext(context=context))
    assert context == {"stage": "PRD"}


# ---- VTL language and Java-isms ----------------------------------------------------------------


def test_undefined_references_print_empty() -> None:
    assert render("[$nope][$!nope][${nope}][$nope.deeper]") == "[][][][]"


def test_booleans_print_lowercase() -> None:
    assert render("#set($b = true)$b #set($c = 1 == 2)$c") == "true false"


def test_java_string_methods() -> None:
    text = "#set($s = ' MiXed ')$s.trim().toLowerCase()|$s.toUpperCase()|$s.length()|$s.contains('X')"
    assert render(text) == "mixed| MIXED |7|true"
    assert (
        render("#set($s = 'abc')$s.indexOf('z') $s.isEmpty() $s.equals('abc') $s.endsWith('c')") == "-1 false true true"
    )


def test_replace_all_uses_java_group_references() -> None:
    assert render("#set($s = 'a-b')$s.replaceAll('(\\w)-(\\w)', '$2+$1')") == "b+a"


def test_matches_is_whole_string() -> None:
    assert render("#set($s = 'abc')$s.matches('b') $s.matches('a.c')") == "false true"


def test_template_maps_get_java_methods() -> None:
    text = (
        "#set($m = {})$m.put('a', 1)$m.size() $m.containsKey('a') $m.isEmpty()"
        "#foreach($e in $m.entrySet()) $e.key=$e.value#end"
    )
    assert render(text) == "1 true false a=1"


def test_foreach_helpers() -> None:
    assert render("#foreach($i in [1..3])$i#if($foreach.hasNext),#end#end") == "1,2,3"
    assert render("#foreach($i in ['a','b'])$velocityCount#end") == "12"


def test_if_elseif_else() -> None:
    text = "#if($input.params('n') == '1')one#elseif($input.params('n') == '2')two#{else}other#end"
    assert [render(text, query={"n": n}) for n in ("1", "2", "3")] == ["one", "two", "other"]


def test_comments_are_dropped() -> None:
    assert render("a## line comment\nb#* block *#c") == "abc"


def test_include_is_refused_without_file_access() -> None:
    with pytest.raises(TemplateRenderError):
        render("#include('/etc/passwd')")


# ---- compilation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [("#if($a) x", 1, 10), ("ok\n${a", 2, 4), ("#set($a = )", 1, 11), ("#end", 1, 1), ("$a.b(", 1, 6)],
)
def test_syntax_errors_carry_line_and_column(text: str, line: int, column: int) -> None:
    with pytest.raises(TemplateSyntaxError) as caught:
        compile_template(text)
    assert (caught.value.line, caught.value.column) == (line, column)
    assert f"line {line}, column {column}" in str(caught.value)


def test_compiled_template_is_reusable() -> None:
    template = compile_template(GUIDE_TEMPLATE)
    assert [template.render(VtlContext(query={"num": str(n)})) for n in range(3)] == [
        '{"num": "0"}',
        '{"num": "1"}',
        '{"num": "2"}',
    ]
    assert template.text == GUIDE_TEMPLATE


def test_empty_template_renders_empty() -> None:
    assert render("") == ""


def test_method_call_failure_is_a_render_error() -> None:
    with pytest.raises(TemplateRenderError):
        render("#set($l = [1])$l.get(5)")


# ---- the fast path: literal text and $input.params('x') only, rendered without VTL ---------------

SIMPLE_CASES = [
    (GUIDE_TEMPLATE, {"query": {"num": "5"}}),
    (GUIDE_TEMPLATE, {}),
    (GUIDE_TEMPLATE, {"path_params": {"num": "p"}, "query": {"num": "q"}, "headers": {"num": "h"}}),
    (GUIDE_TEMPLATE, {"headers": {"NUM": "upper", "Num": "mixed"}}),
    ("""{"a": "$input.params("a")", "b": "$input.params('b')"}""", {"query": {"a": "1"}, "headers": {"B": "2"}}),
    ("plain text, no reference", {"query": {"x": "1"}}),
    ("$input.params('x')$input.params('x')", {"path_params": {"x": "é"}}),
]


@pytest.mark.parametrize(("text", "variables"), SIMPLE_CASES)
def test_a_simple_template_renders_as_vtl_does(text: str, variables: dict[str, Any]) -> None:
    fast = compile_template(text)
    assert fast.simple is not None
    headers = tuple(variables.get("headers", {}).items())
    expected = CompiledTemplate(text, airspeed.Template(text), fast=False).render(VtlContext(**variables))
    assert fast.render_params(variables.get("path_params", {}), variables.get("query", {}), headers) == expected


@pytest.mark.parametrize("text", [
    "$input.params()", "$input.params('a').length()", "$input.params('a')[0]",
    "a dot after: $input.params('x'). Then text", "#set($x = 1)$x", "\\$input.params('a')",
    "$input.body", "$context.requestId", "${input.params('a')}", "$input.params($name)", "## a comment",
])
def test_anything_else_goes_through_vtl(text: str) -> None:
    assert compile_template(text).simple is None


def test_input_path_hands_out_the_live_document() -> None:
    # A #set on a key of what $input.path returned shows in a later $input.json of the same template
    # (AWS behaviour real templates rely on; issue 22).
    text = ('#set($body = $input.path(\'$\'))#set($body.added = "yes")#set($order = $input.path(\'$.order\'))'
            '#set($order.qty = 3)$input.json(\'$\')')
    assert json.loads(render(text, body='{"order": {"id": 7}}')) == {"order": {"id": 7, "qty": 3}, "added": "yes"}


def test_a_value_json_cannot_carry_prints_as_null_or_text() -> None:
    text = "#set($body = $input.path('$'))#set($body.gone = $input.path('$.missing'))$input.json('$')"
    assert json.loads(render(text, body='{"a": 1}')) == {"a": 1, "gone": None}


def test_the_live_document_starts_afresh_for_each_render() -> None:
    compiled = compile_template("#set($b = $input.path('$'))#set($b.n = $b.n + 1)$input.json('$.n')")
    assert [compiled.render(VtlContext(body='{"n": 1}')) for _ in range(2)] == ["2", "2"]


# ---- limits: no template stalls the server (issue 23) -------------------------------------------


@pytest.mark.timeout(20)
def test_a_loop_over_the_list_it_grows_stops_at_1000_iterations() -> None:
    assert render('#set($l=[1])#foreach($i in $l)#set($d=$l.add(1))#end$l.size()') == "1001"


@pytest.mark.timeout(20)
def test_a_range_from_the_query_stops_at_1000_iterations() -> None:
    out = render("#foreach($i in [1..$input.params('n')])x#end", query={"n": "1000000000"})
    assert out == "x" * 1000
    assert render("#foreach($i in [3..1])$i#end") == "321"
    assert render("#foreach($i in [1..3])$foreach.count$foreach.hasNext,#end") == "1true,2true,3false,"
    with pytest.raises(TemplateRenderError, match="whole number"):
        render("#foreach($i in [1..$input.params('n')])x#end", query={"n": "lots"})


@pytest.mark.timeout(20)
def test_a_value_doubled_past_10_mb_is_refused() -> None:
    with pytest.raises(TemplateRenderError, match="more than 10485760 characters"):
        render('#set($s="aaaaaaaaaaaaaaaa")' + '#set($s="$s$s")' * 30 + "$s.length()")


@pytest.mark.timeout(20)
def test_output_past_10_mb_is_refused() -> None:
    big = "y" * 20_000
    with pytest.raises(TemplateRenderError, match="output passed"):
        render(f"#foreach($i in [1..1000]){big}#end")


@pytest.mark.timeout(20)
def test_nested_loops_end_at_the_render_budget() -> None:
    with pytest.raises(TemplateRenderError, match="time budget"):
        render("#foreach($i in [1..1000])#foreach($j in [1..1000])#foreach($k in [1..1000])#set($x=1)#end#end#end")


@pytest.mark.timeout(20)
def test_replace_all_runs_a_catastrophic_pattern_with_a_time_limit() -> None:
    assert render('$input.body.replaceAll("a+", "b")', body="aaa-aa") == "b-b"
    with pytest.raises(TemplateRenderError):
        render('$input.body.replaceAll("(a|aa)+b", "x")', body="a" * 60)


def test_templates_with_loops_are_heavy() -> None:
    assert compile_template("#foreach($i in [1..2])x#end").heavy
    assert compile_template("#FOREACH($i in [1..2])x#end").heavy
    assert not compile_template(GUIDE_TEMPLATE).heavy
