"""callarchive.web: the web UI and the REST API, with per-user access control.

    create_app(state)   the FastAPI app: pages, `/api/v1` (OpenAPI at /api/v1/openapi.json)
    WebState            its dependencies: archive, media store, clock, hooks

Access (DESIGN.md section 6): administrators see and change everything; compliance officers
see every recording and the operations pages, and change nothing; supervisors see their own
recordings, those of everyone below them and those of their partitions; agents see their own
(and their partitions'). What a viewer may not see is answered as not found.
"""

from callarchive.web.app import API_PREFIX, create_app
from callarchive.web.security import hash_password, password_problem
from callarchive.web.state import RunNow, WebState

__all__ = ["API_PREFIX", "RunNow", "WebState", "create_app", "hash_password", "password_problem"]
