"""The parent's end of a worker's socket and pipe: frames in, events out, output kept bounded.

`FrameProtocol` parses the worker's frames as bytes arrive (no thread, no copy of a frame that
came whole) and calls its `FrameSink`. Log frames stream straight into the output buffer; result
frames over Lambda's 6 MB limit are skipped, never buffered.
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from ..runtime import protocol

# Output an invocation may keep; the rest is counted and dropped, with a note.
OUTPUT_CAP = 4 * 1024 * 1024
# A reply frame is buffered only up to the response limit plus room for its JSON header.
_MAX_REPLY_FRAME = protocol.MAX_RESPONSE_BYTES + 4 + 4096
_BUFFERED_KINDS = (protocol.READY, protocol.INIT_ERROR, protocol.RESULT, protocol.ERROR)


class ReplyTooLarge:
    """Stands for a result or error frame whose payload exceeded the response limit."""


TOO_LARGE = ReplyTooLarge()


class FrameSink(Protocol):
    output: OutputBuffer

    def on_frame(self, kind: int, header: dict[str, Any] | None, payload: bytes | ReplyTooLarge) -> None: ...

    def on_protocol_error(self, reason: str) -> None: ...

    def on_eof(self) -> None: ...


class OutputBuffer:
    """An invocation's output: bytes kept up to OUTPUT_CAP, then counted."""

    def __init__(self, cap: int = OUTPUT_CAP) -> None:
        self._chunks: list[bytes] = []
        self._size = 0
        self._dropped = 0
        self._cap = cap

    def add(self, data: bytes) -> None:
        room = self._cap - self._size
        if len(data) <= room:
            self._chunks.append(data)
            self._size += len(data)
            return
        if room > 0:
            self._chunks.append(data[:room])
            self._size += room
        self._dropped += len(data) - max(room, 0)

    def take(self) -> str:
        if not self._chunks and not self._dropped:
            return ""
        text = b"".join(self._chunks).decode("utf-8", "replace")
        if self._dropped:
            text += f"\n[lambdalite] output truncated: {self._dropped} more bytes were dropped " \
                    f"(limit {self._cap} bytes per invocation)\n"
        self._chunks.clear()
        self._size = self._dropped = 0
        return text


class FrameProtocol(asyncio.Protocol):
    def __init__(self, sink: FrameSink) -> None:
        self._sink = sink
        self._head = b""
        self._kind = 0
        self._left = 0          # bytes of the current frame's body still to come
        self._in_body = False
        self._skip = False
        self._parts: list[bytes] = []
        self._broken = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self._sink.on_eof()

    def data_received(self, data: bytes) -> None:
        if not self._in_body and not self._head and len(data) > 5:
            size, kind = protocol.FRAME.unpack_from(data)
            if len(data) == 5 + size and (kind == protocol.RESULT or kind == protocol.ERROR):
                # The warm path: one whole reply frame in one read.
                self._kind, self._skip, self._parts = kind, False, [data[5:]]
                self._end_frame()
                return
        pos, end = 0, len(data)
        while pos < end and not self._broken:
            if not self._in_body:
                pos = self._read_head(data, pos)
                continue
            take = min(self._left, end - pos)
            chunk = data if (take == end and pos == 0) else data[pos:pos + take]
            pos += take
            self._left -= take
            self._feed(chunk)

    def _read_head(self, data: bytes, pos: int) -> int:
        need = protocol.FRAME.size - len(self._head)
        self._head += data[pos:pos + need]
        pos += need
        if len(self._head) < protocol.FRAME.size:
            return pos
        size, kind = protocol.FRAME.unpack(self._head)
        self._head = b""
        self._kind, self._left, self._in_body = kind, size, True
        self._skip = kind in (protocol.RESULT, protocol.ERROR) and size > _MAX_REPLY_FRAME
        if kind != protocol.LOG and kind not in _BUFFERED_KINDS:
            self._broken = True  # nothing after this can be trusted: the instance is killed
            self._sink.on_protocol_error(f"unknown frame kind {kind}")
            return pos
        if size == 0:
            self._feed(b"")
        return pos

    def _feed(self, chunk: bytes) -> None:
        if self._kind == protocol.LOG:
            if chunk:
                self._sink.output.add(chunk)
        elif not self._skip and chunk:
            self._parts.append(chunk)
        if self._left == 0:
            self._in_body = False
            if self._kind != protocol.LOG:
                self._end_frame()

    def _end_frame(self) -> None:
        body = self._parts[0] if len(self._parts) == 1 else b"".join(self._parts)
        self._parts = []
        kind = self._kind
        if self._skip:
            self._sink.on_frame(kind, None, TOO_LARGE)
            return
        try:
            header, payload = self._decode(kind, body)
        except (ValueError, UnicodeDecodeError) as exc:
            self._broken = True
            self._sink.on_protocol_error(f"bad frame {chr(kind)!r}: {exc}")
            return
        self._sink.on_frame(kind, header, payload)

    @staticmethod
    def _decode(kind: int, body: bytes) -> tuple[dict[str, Any] | None, bytes | ReplyTooLarge]:
        if kind == protocol.READY:
            return protocol.loads(body.decode()), b""
        if kind == protocol.INIT_ERROR:
            return None, body
        head, payload = protocol.split_headed(body)
        header = protocol.loads(head.decode())
        if len(payload) > protocol.MAX_RESPONSE_BYTES:
            return header, TOO_LARGE
        return header, payload


class PipeProtocol(asyncio.Protocol):
    """The worker's fd 1 and 2 (C code, os.write, child processes): appended to the output."""

    def __init__(self, output: OutputBuffer) -> None:
        self._output = output

    def data_received(self, data: bytes) -> None:
        self._output.add(data)
