"""Observability: invocation records and their log lines (CloudWatch-style), written off the
request path in batches (`recorder.py`) and read back (`history.py`); the metrics folded from the
same batches (`metrics.py`); what each invocation would cost on AWS (`pricing.py`), this month's
spending and the budgets that refuse work past it (`spending.py`); numbers made from the records
(`reports.py`: the cost table, stats, CloudWatch datapoints).

May import: pool (its Outcome), store, errors.
"""
