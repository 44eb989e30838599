"""moto's server with one request handled at a time.

AWS applies each conditional write and transaction atomically. moto's threaded server does not:
it evaluates conditions and writes from concurrent threads, and restores whole tables from a
copy when a transaction fails, which can lose another thread's write. Serializing requests gives
back the atomicity AWS guarantees, so the race tests exercise our conditions, not moto's threads.
"""

import argparse
import os
import threading
import time

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()

    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def serialized(environ, start_response):
        with lock:
            return list(app(environ, start_response))

    # Whoever started us (a test binary, the dev stack) may die without stopping us: follow it.
    parent = os.getppid()

    def exit_with_parent():
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=exit_with_parent, daemon=True).start()
    run_simple(args.host, args.port, serialized, threaded=True)


if __name__ == "__main__":
    main()
