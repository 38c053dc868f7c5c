"""gunicorn's settings for every service in the image (``shop serve SERVICE``), from the environment.

The root filesystem is read-only in the pod: gunicorn's worker heartbeat files and anything
Python writes to its temp dir go to ``/tmp``, an emptyDir in the manifests.
"""
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# Longer than the balancer's idle timeout for kept-alive connections, so that the balancer,
# not gunicorn, closes them (no request lost on a connection gunicorn just closed).
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "75"))
timeout = 30
# Kubernetes sends SIGTERM, waits terminationGracePeriodSeconds (30 s), then SIGKILL.
graceful_timeout = 20
worker_tmp_dir = os.environ.get("GUNICORN_WORKER_TMP_DIR", "/tmp")
accesslog = None  # the services log every request they care about themselves
errorlog = "-"
