"""callarchive.monitoring: what a running node tells its operators.

Metrics      Prometheus metrics: conversations by outcome, runs and their durations, retry
             buffer size, lag and cursor position per policy and import source, Genesys
             requests by endpoint and status, 429s, alerts sent
routes       `/metrics`, `/health` and `/ready` for the node's web app
"""

from callarchive.monitoring.endpoints import Check, routes
from callarchive.monitoring.metrics import CONTENT_TYPE, Metrics, endpoint_of

__all__ = ["CONTENT_TYPE", "Check", "Metrics", "endpoint_of", "routes"]
