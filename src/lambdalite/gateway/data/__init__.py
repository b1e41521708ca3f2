"""API Gateway's data plane: a request on a stage's URL -> route -> validation -> integration.

`plane.py` is the thin I/O shell; routing, events (proxy payload 1.0), VTL, validation and the
integration rules beside it are pure. It reads only the immutable stages the control plane
publishes, compiled once per (deployment, stage) (`compiled.py`). Who may call is decided here too:
API keys and usage plans (`..usage`), REST Lambda authorizers (`authorizers.py`, `policy.py`) and HTTP
APIs' JWT and Lambda authorizers (`http_auth.py`, the one module that imports PyJWT). May import:
errors, asgi, invoke; never the control plane.
"""
