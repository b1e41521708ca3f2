"""CloudWatch's two protocols, the pure parts: query members to the JSON shape, and XML answers."""

from __future__ import annotations

import pytest

from lambdalite.apis.cloudwatch import CloudWatchError, _period, _time, _window, is_query_call, to_xml, unflatten


def test_query_members_become_the_json_shape() -> None:
    form = {"Namespace": "AWS/Lambda", "Dimensions.member.1.Name": "FunctionName",
            "Dimensions.member.1.Value": "addfive", "Statistics.member.2": "Average", "Statistics.member.1": "Sum",
            "MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.1.Name": "FunctionName",
            "MetricDataQueries.member.1.Id": "m1"}
    got = unflatten(form)
    assert got["Dimensions"] == [{"Name": "FunctionName", "Value": "addfive"}]
    assert got["Statistics"] == ["Sum", "Average"]
    assert got["MetricDataQueries"] == [{"Id": "m1", "MetricStat": {"Metric": {"Dimensions": [
        {"Name": "FunctionName"}]}}}]


def test_answers_render_as_the_query_protocols_xml() -> None:
    xml = to_xml({"Label": "Invocations", "Datapoints": [{"Timestamp": 1796668080.0, "Sum": 5.0, "Unit": "Count",
                                                          "ExtendedStatistics": {"p99": 1.5}}]})
    assert xml == ("<Label>Invocations</Label><Datapoints><member><Timestamp>2026-12-07T18:28:00Z</Timestamp>"
                   "<Sum>5.0</Sum><Unit>Count</Unit><ExtendedStatistics><entry><key>p99</key><value>1.5</value>"
                   "</entry></ExtendedStatistics></member></Datapoints>")
    assert to_xml({"Timestamps": [0.0], "Values": [1.0], "Label": "<&>"}) == (
        "<Timestamps><member>1970-01-01T00:00:00Z</member></Timestamps><Values><member>1.0</member></Values>"
        "<Label>&lt;&amp;&gt;</Label>")


def test_times_come_as_epoch_seconds_or_iso_text() -> None:
    assert _time(1796668080.5, "StartTime") == 1796668080500
    assert _time("2026-12-07T18:28:00Z", "StartTime") == 1796668080000
    assert _time("2026-12-07T18:28:00", "StartTime") == 1796668080000   # no zone: UTC
    for bad in ("yesterday", True, float("inf"), [1]):
        with pytest.raises(CloudWatchError, match="must be a timestamp"):
            _time(bad, "StartTime")
    with pytest.raises(CloudWatchError, match="StartTime is required"):
        _time(None, "StartTime")


def test_a_reversed_or_empty_window_is_refused() -> None:
    with pytest.raises(CloudWatchError, match="StartTime must be less than the parameter EndTime"):
        _window({"StartTime": 10, "EndTime": 5})
    with pytest.raises(CloudWatchError, match="StartTime must be less"):
        _window({"StartTime": 10, "EndTime": 10})


@pytest.mark.parametrize("period", [60, 300, 3600, 1, 5, 10, 20, 30, "60"])
def test_periods_of_a_minute_multiple_or_high_resolution_are_taken(period: object) -> None:
    assert _period(period, "Period") == int(str(period))


@pytest.mark.parametrize("period", [0, -60, 45, 61, "soon", True, 7])
def test_other_periods_are_refused(period: object) -> None:
    with pytest.raises(CloudWatchError, match="multiple of 60") as refused:
        _period(period, "Period")
    assert refused.value.code == "InvalidParameterValue"


def test_a_form_call_is_cloudwatchs_when_signed_for_monitoring_or_naming_its_action() -> None:
    signed = {"authorization": "AWS4-HMAC-SHA256 Credential=a/20261207/us-east-1/monitoring/aws4_request"}
    assert is_query_call(signed, b"Action=Anything")
    assert is_query_call({}, b"Action=GetMetricStatistics&Version=2010-08-01")
    assert not is_query_call({}, b"Action=DescribeStacks")
    cfn = {"authorization": "AWS4-HMAC-SHA256 Credential=a/20261207/us-east-1/cloudformation/aws4_request"}
    assert not is_query_call(cfn, b"Action=GetMetricStatistics")
