"""Instances: where invocations run.

Owns the backend contract (`types.py`), the local process backend (`local.py`: pools of
`instance.py` workers started by `launch.py`, spoken to over `channel.py`, their endings watched by
`process.py`), and the choice of interpreter and runtime bundle (`interpreters.py`). Imports
`errors` and, for the wire format only, `runtime.protocol`; never the store or the services above.
"""
