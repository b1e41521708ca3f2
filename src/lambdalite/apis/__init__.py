"""The AWS protocols the server speaks: parse, validate, render AWS's shapes.

One module per protocol (`lambda_api` now; API Gateway and CloudFormation later), over the raw
ASGI helpers in `http`. They call the services (functions, invoke), never the store.
"""
