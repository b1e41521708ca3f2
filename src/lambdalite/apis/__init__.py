"""The AWS protocols the server speaks, and Lambdalite's own endpoints: parse, validate, render.

One module per protocol: `lambda_api` (REST-JSON, the Lambda API and its Invoke lane),
`apigateway` (REST-JSON, the API Gateway management API), `cloudformation` (the query protocol,
XML), `stacks` and `own` (Lambdalite's own JSON endpoints under `/_lambdalite/`), over the request
and error boundary in `http` and the raw ASGI helpers of `lambdalite.asgi`. They call the
services (functions, invoke, gateway, stacks, observe), never the store.
"""
