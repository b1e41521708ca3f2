"""The worker runtime: runs INSIDE an instance, in the function's own interpreter.

Owns the bootstrap loop (init, then one invocation at a time), the context object, handler
loading, Lambda's error shape and the capture of the function's output. Standard library only,
and nothing of `lambdalite` is imported: in a worker this package is imported as
`_lambdalite_runtime` (see `lambdalite.pool.launch`), beside the function's own dependencies.
The parent side imports only `protocol` from here.
"""
