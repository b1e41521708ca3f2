"""API Gateway ids: lower-case letters and digits, 10 for APIs and roots, 6 for the rest."""

from __future__ import annotations

import re

from lambdalite.gateway.ids import API_ID_LENGTH, new_id, now


def test_ids_have_aws_lengths_and_alphabet() -> None:
    assert re.fullmatch(r"[a-z0-9]{10}", new_id(API_ID_LENGTH))
    assert re.fullmatch(r"[a-z0-9]{6}", new_id())
    assert len({new_id() for _ in range(1000)}) > 990


def test_ids_avoid_the_taken_ones() -> None:
    taken = {new_id(1) for _ in range(200)}
    free = set("abcdefghijklmnopqrstuvwxyz0123456789") - taken
    if free:
        assert new_id(1, taken) in free


def test_now_is_epoch_seconds() -> None:
    assert isinstance(now(), int) and now() > 1_700_000_000
