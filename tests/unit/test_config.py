"""Settings: flags win over LAMBDALITE_* variables, which win over defaults; 0 is a value."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lambdalite.config import DEFAULT_IDLE_TIMEOUT_S, DEFAULT_MAX_CONCURRENCY, DEFAULT_PORT, ROOT_HOME, Settings

VARIABLES = ("LAMBDALITE_HOME", "LAMBDALITE_HOST", "LAMBDALITE_PORT", "LAMBDALITE_REGION", "LAMBDALITE_ACCOUNT",
             "LAMBDALITE_MAX_CONCURRENCY", "LAMBDALITE_IDLE_TIMEOUT", "LAMBDALITE_ZYGOTES",
             "LAMBDALITE_ZYGOTE_IDLE_TIMEOUT", "LAMBDALITE_MAX_INSTANCES")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))


def test_defaults(tmp_path: Path) -> None:
    settings = Settings.from_env()
    assert (settings.port, settings.max_concurrency, settings.idle_timeout_s) == (
        DEFAULT_PORT, DEFAULT_MAX_CONCURRENCY, DEFAULT_IDLE_TIMEOUT_S)
    assert settings.home == (ROOT_HOME if os.geteuid() == 0 else (tmp_path / ".lambdalite").resolve())
    assert settings.test_clock is False


def test_root_keeps_a_home_it_already_has_in_root(tmp_path: Path) -> None:
    """As root the default is /var/lib/lambdalite (function users can reach it; /root they cannot
    enter), unless ~/.lambdalite exists already: a server's functions never vanish with an upgrade."""
    (tmp_path / ".lambdalite").mkdir()
    assert Settings.from_env().home == (tmp_path / ".lambdalite").resolve()


def test_zero_flags_are_values_not_absences(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAMBDALITE_IDLE_TIMEOUT", "30")
    settings = Settings.from_env(port=0, max_concurrency=0, idle_timeout_s=0.0)
    assert (settings.port, settings.max_concurrency, settings.idle_timeout_s) == (0, 0, 0.0)


def test_zero_variables_are_values_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAMBDALITE_IDLE_TIMEOUT", "0")
    monkeypatch.setenv("LAMBDALITE_MAX_CONCURRENCY", "0")
    settings = Settings.from_env()
    assert (settings.max_concurrency, settings.idle_timeout_s) == (0, 0.0)


def test_flags_win_over_variables_which_win_over_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LAMBDALITE_PORT", "9100")
    monkeypatch.setenv("LAMBDALITE_REGION", "eu-west-1")
    monkeypatch.setenv("LAMBDALITE_HOME", str(tmp_path / "from-env"))
    assert Settings.from_env().port == 9100
    assert Settings.from_env(port=9200).port == 9200
    assert Settings.from_env().region == "eu-west-1"
    assert Settings.from_env().home == (tmp_path / "from-env").resolve()
    assert Settings.from_env(home=tmp_path / "flag").home == (tmp_path / "flag").resolve()


def test_empty_variables_mean_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAMBDALITE_PORT", "")
    monkeypatch.setenv("LAMBDALITE_HOST", " ")
    settings = Settings.from_env()
    assert (settings.port, settings.host) == (DEFAULT_PORT, "127.0.0.1")


def test_a_variable_that_is_not_a_number_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAMBDALITE_MAX_CONCURRENCY", "lots")
    with pytest.raises(ValueError, match="LAMBDALITE_MAX_CONCURRENCY='lots'"):
        Settings.from_env()


def test_base_url_for_any_interface_and_ipv6() -> None:
    assert Settings(Path("/h"), host="0.0.0.0", port=9000).base_url == "http://127.0.0.1:9000"
    assert Settings(Path("/h"), host="::1", port=9000).base_url == "http://[::1]:9000"


def test_the_pool_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings.from_env()
    assert (settings.zygotes, settings.max_instances, settings.max_concurrency) == (True, None, 1000)
    monkeypatch.setenv("LAMBDALITE_ZYGOTES", "off")
    monkeypatch.setenv("LAMBDALITE_MAX_INSTANCES", "2")
    monkeypatch.setenv("LAMBDALITE_ZYGOTE_IDLE_TIMEOUT", "0")
    settings = Settings.from_env()
    assert (settings.zygotes, settings.max_instances, settings.zygote_idle_timeout_s) == (False, 2, 0.0)
    assert Settings.from_env(zygotes=True, max_instances=3).zygotes is True


@pytest.mark.parametrize(("variable", "value"), [("LAMBDALITE_ZYGOTES", "maybe"), ("LAMBDALITE_MAX_INSTANCES", "0"),
                                                 ("LAMBDALITE_MAX_INSTANCES", "two")])
def test_bad_pool_settings_are_refused_by_name(monkeypatch: pytest.MonkeyPatch, variable: str, value: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValueError, match=variable):
        Settings.from_env()
