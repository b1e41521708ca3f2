"""Observability: invocation records and their log lines (CloudWatch-style), written off the
request path in batches (`recorder.py`) and read back (`history.py`).

May import: pool (its Outcome), store. Later: metrics, cost and budgets.
"""
