"""The limit for the gateway benchmark: a raw ASGI app that calls the guide's handler in-process.

GET /PRD/addfive?num=5 -> 200 application/json `10`; no framework, no isolation, no templates.
"""

import json
from urllib.parse import parse_qsl

JSON = [(b"content-type", b"application/json")]


def lambda_handler(event, context):
    try:
        return int(event["num"]) + 5
    except Exception:
        return 0


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["path"] != "/PRD/addfive":
        await send({"type": "http.response.start", "status": 404, "headers": JSON})
        await send({"type": "http.response.body", "body": b'{"message":"Not Found"}'})
        return
    event = dict(parse_qsl(scope["query_string"].decode("latin-1")))
    body = json.dumps(lambda_handler(event, None)).encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": JSON + [(b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
