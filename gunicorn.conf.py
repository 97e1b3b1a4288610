"""gunicorn settings for production-like serving (``make run``)."""

import multiprocessing
import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}"
# Threads keep long-lived event streams (the live wall) from blocking other requests.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
timeout = 60
graceful_timeout = 20
keepalive = 5
# No periodic worker recycling: with every worker restarting at once under load it caused all
# the errors and the multi-second p99 in bench/load (see bench/load/RESULTS.md).
max_requests = 0
accesslog = "-"
# Citizens answer anonymously: no client IP addresses in the access log.
access_log_format = '"%(r)s" %(s)s %(b)s %(M)sms'


def post_worker_init(worker):
    """Load the guard's name lists and the theme engine's spaCy pipeline before the first
    request, not during it."""
    from nlp import warm_up as warm_up_nlp
    from surveys.privacy import warm_up

    warm_up()
    warm_up_nlp()
