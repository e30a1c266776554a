"""moto_server, answering one request at a time.

moto's DynamoDB is not atomic under concurrent requests: TransactWriteItems snapshots whole tables
and restores them on a failed condition, so two transactions racing in threads can both pass their
conditions, or one can undo the other's writes. DynamoDB serialises transactions on the items they
touch; answering one request at a time gives the same guarantee (and costs little: moto is Python,
one request at a time is about what its lock on the interpreter allows anyway).
"""

import os
import sys
import threading

from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

host, port = sys.argv[1], int(sys.argv[2])
os.environ.setdefault("MOTO_PORT", str(port))
app = DomainDispatcherApplication(create_backend_app)
lock = threading.Lock()


def serialised(environ, start_response):
    with lock:
        return list(app(environ, start_response))


# Threads keep connections alive; the lock lets one request at a time into moto.
run_simple(host, port, serialised, threaded=True)
