"""The invoker: qualifier -> serving snapshot -> instance spec -> concurrency limit -> backend ->
Lambda's answer, and the record handed to the recorder.

May import: functions, observe, pool (its contract only: `pool.types`). Reads the functions'
in-memory snapshots; never queries SQLite on the request path.
"""
