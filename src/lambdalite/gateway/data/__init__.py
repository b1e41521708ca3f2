"""API Gateway's data plane: a request on a stage's URL -> route -> validation -> integration.

`plane.py` is the thin I/O shell; routing, events (proxy payload 1.0), VTL, validation and the
integration rules beside it are pure. It reads only the immutable stages the control plane
publishes, compiled once per (deployment, stage) (`compiled.py`). May import: errors, asgi, invoke;
never the control plane.
"""
