"""gunicorn reads this file from the directory it starts in: the shop's configuration (metrics
from every worker, JSON logs) in service_kit.gunicorn_conf."""
from service_kit.gunicorn_conf import *  # noqa: F401,F403
