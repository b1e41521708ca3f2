"""Request ids: UUID version 4 text, made without a syscall (the invoke path makes one per call)."""

from __future__ import annotations

import random

_random = random.Random()


def request_id() -> str:
    h = f"{_random.getrandbits(128):032x}"
    # version 4, variant 10xx: the same shape uuid.uuid4() gives
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:32]}"
