"""API Gateway ids: lower-case letters and digits, 10 for APIs and roots, 6 for the rest."""

from __future__ import annotations

import re

from lambdalite.gateway.control.ids import API_ID_LENGTH, new_id, now


def test_ids_have_aws_lengths_and_alphabet() -> None:
    assert re.fullmatch(r"[a-z0-9]{10}", new_id(API_ID_LENGTH))
    assert re.fullmatch(r"[a-z0-9]{6}", new_id())
    assert len({new_id() for _ in range(1000)}) > 990


def test_ids_avoid_the_taken_ones() -> None:
    alphabet = set("abcdefghijklmnopqrstuvwxyz0123456789")
    free = {"q", "7"}
    taken = alphabet - free
    assert {new_id(1, taken) for _ in range(200)} == free   # never a taken one; both free ones come up


def test_ids_of_length_one_exhaust_to_the_last_free_one() -> None:
    alphabet = set("abcdefghijklmnopqrstuvwxyz0123456789")
    assert new_id(1, alphabet - {"x"}) == "x"


def test_now_is_epoch_seconds() -> None:
    assert isinstance(now(), int) and now() > 1_700_000_000
