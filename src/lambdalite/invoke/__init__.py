"""The invoker: qualifier -> function version -> instance spec -> pool -> Lambda's answer.

May import: functions, pool (its types and backends), observe, store (records only). Reads the
functions' in-memory snapshot; never queries SQLite on the request path.
"""
