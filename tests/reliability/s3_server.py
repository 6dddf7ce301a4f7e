"""An S3-compatible server (moto) whose listener can be stopped and started again while its
buckets and objects live on: `python -m tests.reliability.s3_server PORT BUCKET`.

It creates BUCKET, prints `listening PORT`, then reads commands on standard input: `stop` closes
the listening socket and shuts down every connection it had accepted (requests under way are cut
off, new connections are refused) and prints `stopped`; `start` binds PORT again and prints
`listening PORT`. moto's backends are module state of this process, so the data survives.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import sys
import threading
from typing import Any

import boto3
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import ThreadedWSGIServer


class _Server(ThreadedWSGIServer):
    """werkzeug's threaded server, keeping the connections it accepted so `cut` can end them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.connections: set[socket.socket] = set()
        self._guard = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._guard:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._guard:
            self.connections.discard(request)
        super().shutdown_request(request)

    def cut(self) -> None:
        """Stop accepting, close the listener and shut down every open connection."""
        self.shutdown()
        self.server_close()
        with self._guard:
            open_now = list(self.connections)
        for connection in open_now:
            with contextlib.suppress(OSError):  # closed by its handler meanwhile
                connection.shutdown(socket.SHUT_RDWR)


def _listen(app: Any, port: int) -> _Server:
    server = _Server("127.0.0.1", port, app, handler=MotoRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main(port: int, bucket: str) -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    app = DomainDispatcherApplication(create_backend_app)
    server = _listen(app, port)
    boto3.client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ).create_bucket(Bucket=bucket)
    print(f"listening {port}", flush=True)
    for line in sys.stdin:
        if line.strip() == "stop":
            server.cut()
            print("stopped", flush=True)
        elif line.strip() == "start":
            server = _listen(app, port)
            print(f"listening {port}", flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])
