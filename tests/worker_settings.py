"""Settings for a real Huey consumer started by tests/test_risk_path_worker.py, and nothing else.

The test suite runs Huey in immediate mode (tasks run inside the test, config/settings.py). To
prove the risk path works with a real worker, that test starts ``manage.py run_huey`` in a separate
process with these settings: the project's own, but with a real queue (Redis, under a queue name
of the test's own, so parallel runs never take each other's tasks), the test's database, and the
test's SMTP capture server. Every value comes from the test through the environment.
"""

from __future__ import annotations

import os

from config.settings import *  # noqa: F403
from config.settings import DATABASES

HUEY = {
    "huey_class": "huey.RedisHuey",
    "name": os.environ["RAPPORT_WORKER_QUEUE"],
    "url": os.environ["RAPPORT_WORKER_REDIS_URL"],
    "immediate": False,
}
DATABASES["default"]["NAME"] = os.environ["RAPPORT_WORKER_DATABASE_NAME"]
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = "127.0.0.1"
EMAIL_PORT = int(os.environ["RAPPORT_WORKER_SMTP_PORT"])
EMAIL_USE_TLS = False
EMAIL_USE_SSL = False
EMAIL_HOST_USER = ""
EMAIL_HOST_PASSWORD = ""
EMAIL_TIMEOUT = 10
