"""The limit for the invoke benchmark: a raw ASGI app that calls the guide's handler in-process.

POST /2015-03-31/functions/addfive/invocations with the event as the body -> 200 application/json
with the result, as Lambdalite answers; no framework, no isolation, no records.
"""

import json


def lambda_handler(event, context):
    try:
        num = int(event["num"])
        return num + 5
    except Exception:
        return 0


HEADERS = [(b"content-type", b"application/json")]


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    result = json.dumps(lambda_handler(json.loads(body or b"{}"), None)).encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": HEADERS + [(b"content-length", str(len(result)).encode())]})
    await send({"type": "http.response.body", "body": result})
