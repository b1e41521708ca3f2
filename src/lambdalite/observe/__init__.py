"""Observability: invocation records and logs (CloudWatch-style lines), written in batches.

May import: store, config. Later: metrics, cost.
"""
