"""Event decoding and result encoding, as awslambdaric's LambdaMarshaller.

awslambdaric encodes with simplejson (allow_nan, Decimal as a raw number); the standard library
has no raw-number hook, so a Decimal becomes a marked string that is swapped for its digits
after encoding. The marker holds a per-process random token, so no user string can fake it.
"""

from __future__ import annotations

import json
import math
import os
import re
import secrets
from typing import Any

from .errors import Fault
from .protocol import loads

_TOKEN = secrets.token_hex(8)
_MARK = f"\x00{_TOKEN}:"
_MARKED = re.compile(r'"\\u0000' + _TOKEN + r':([^"\\]*)\\u0000"')


def _ensure_ascii() -> bool:
    # awslambdaric emits UTF-8 characters raw on python3.12 and later, escapes them before.
    env = os.environ.get("AWS_EXECUTION_ENV", "")
    prefix = "AWS_Lambda_python3."
    if env.startswith(prefix) and env[len(prefix):].isdigit():
        return int(env[len(prefix):]) < 12
    return False


class _Encoder(json.JSONEncoder):
    def __init__(self) -> None:
        super().__init__(ensure_ascii=_ensure_ascii(), allow_nan=True)
        self.saw_decimal = False
        self._fast: Any = None

    def encode(self, o: Any) -> str:
        # JSONEncoder.encode builds its C encoder on every call; keep one while it is clean (its
        # circular-reference markers are left dirty by an exception, so it is dropped then).
        fast = self._fast
        if fast is None:
            fast = self._fast = self._make_fast()
            if fast is None:
                return super().encode(o)
        try:
            return "".join(fast(o, 0))
        except BaseException:
            self._fast = None
            raise

    def _make_fast(self) -> Any:
        make = getattr(json.encoder, "c_make_encoder", None)
        if make is None:
            return None
        escape = json.encoder.encode_basestring_ascii if self.ensure_ascii else json.encoder.encode_basestring
        return make({}, self.default, escape, None, self.key_separator, self.item_separator,
                    self.sort_keys, self.skipkeys, self.allow_nan)

    def default(self, o: Any) -> Any:
        import decimal  # only an unusual value pays for this import

        if isinstance(o, decimal.Decimal):
            if o.is_nan():
                return math.nan
            self.saw_decimal = True
            return f"{_MARK}{o}\x00"
        return super().default(o)


class Marshaller:
    def __init__(self) -> None:
        self._encoder = _Encoder()

    def decode_event(self, data: bytes) -> Any:
        if not data:
            return {}
        try:
            return loads(data.decode("utf-8"))
        except Exception as exc:
            raise Fault(Fault.UNMARSHAL_ERROR, f"Unable to unmarshal input: {exc}") from None

    def encode_result(self, value: Any) -> tuple[bytes, bool]:
        """(body, raw): bytes a handler returns go out unchanged, anything else as JSON."""
        if isinstance(value, bytes):
            return value, True
        try:
            text = self._encoder.encode(value)
            if self._encoder.saw_decimal:
                self._encoder.saw_decimal = False
                text = _MARKED.sub(r"\1", text)
            return text.encode("utf-8"), False
        except Exception as exc:
            self._encoder.saw_decimal = False
            raise Fault(Fault.MARSHAL_ERROR, f"Unable to marshal response: {exc}") from None

    def encode_error(self, error: dict[str, Any]) -> bytes:
        return self._encoder.encode(error).encode("utf-8", "backslashreplace")
