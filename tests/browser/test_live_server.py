"""The browser tests' live server itself: a client that resets its connection must not leave
file handles behind (they fail whichever test the garbage collector runs in)."""

from __future__ import annotations

import gc
import socket
import struct
import time
from urllib.parse import urlsplit


def test_static_files_are_closed_when_the_client_resets(live_server: str) -> None:
    address = urlsplit(live_server)
    for _ in range(40):
        client = socket.create_connection((address.hostname, address.port))
        client.sendall(b"GET /static/favicon.svg HTTP/1.1\r\nHost: test\r\n\r\n")
        time.sleep(0.002)
        # Close with a reset (linger 0), as a browser does with a connection it drops.
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.close()
    time.sleep(0.3)
    # Without the middleware the server leaves open files here; filterwarnings = error turns
    # their ResourceWarning into a failure of this test.
    gc.collect()
