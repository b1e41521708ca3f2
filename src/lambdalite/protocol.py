"""The HTTP/1.1 protocol the server runs: uvicorn's httptools protocol, keeping header names as the
client spelled them and bounding a request's head.

ASGI lower-cases header names, but API Gateway passes them on in the client's casing (the v1 proxy
event, `$input.params().header`; reference 5.1, trap 11). The names as received go in
`scope["extensions"]["lambdalite.header_names"]["names"]`, one per entry of `scope["headers"]`.
This depends on uvicorn's httptools protocol internals (`on_header`, `on_url`, `data_received`).

A request line and headers past HEAD_LIMIT bytes get 431 `Request Header Fields Too Large` and the
connection closes: httptools alone would hold a 50 MB header in memory and hand it on.
"""

from __future__ import annotations

import json

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from .asgi import HEADER_NAMES

HEAD_LIMIT = 64 * 1024   # bytes of request line and headers (API Gateway allows 10 KB of headers; boto3 sends < 2 KB)


class CasePreservingProtocol(HttpToolsProtocol):
    """Also bounds a request's head (request line and headers) at HEAD_LIMIT bytes: past it the
    client gets 431 and the connection closes, before more of it is held in memory."""

    in_head = True          # reading a request line and headers (not a body)
    head_bytes = 0          # read while in the same head, over several reads
    heads = 0               # heads completed on this connection

    def data_received(self, data: bytes) -> None:
        was_head, heads = self.in_head, self.heads
        super().data_received(data)
        if was_head and self.heads == heads and not self.transport.is_closing():   # all of it went to one head
            self.head_bytes += len(data)
            if self.head_bytes > HEAD_LIMIT:
                self.refuse_head()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.header_names: list[bytes] = []
        self.header_bytes = len(self.url)
        self.scope["extensions"] = {HEADER_NAMES: {"names": self.header_names}}  # ASGI: a dict each

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        self.header_bytes += len(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        super().on_header(name, value)
        self.header_names.append(name)
        self.header_bytes += len(name) + len(value) + 4

    def on_headers_complete(self) -> None:
        self.in_head, self.head_bytes, self.heads = False, 0, self.heads + 1
        if self.header_bytes > HEAD_LIMIT:   # a head that arrived whole in one read
            self.refuse_head()
            return
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if not self.transport.is_closing():   # else: its head was refused
            super().on_body(body)

    def on_message_complete(self) -> None:
        self.in_head = True
        if not self.transport.is_closing():
            super().on_message_complete()

    def send_400_response(self, msg: str) -> None:
        if not self.transport.is_closing():   # after a 431, nothing more is written
            super().send_400_response(msg)

    def refuse_head(self) -> None:
        body = json.dumps({"message": f"Request Header Fields Too Large: the request line and headers may "
                                      f"take {HEAD_LIMIT} bytes"}).encode()
        self.transport.write(b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: application/json\r\n"
                             b"x-amzn-ErrorType: RequestHeaderFieldsTooLargeException\r\ncontent-length: "
                             + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n" + body)
        self.transport.close()

