"""Publishing Celery tasks from web requests without ever waiting on Redis.

Tasks are published only after the surrounding transaction commits, so a worker
never looks for a row that is not there yet. If the broker cannot be reached the
publish fails fast (see the CELERY_BROKER_* settings) and is logged; the work is
not lost because every task here has a database row that a periodic sweep picks up.
"""

import logging

from django.db import transaction

logger = logging.getLogger(__name__)


def publish(task, *args, **kwargs) -> bool:
    try:
        task.apply_async(args=args, kwargs=kwargs)
    except Exception as error:  # kombu raises several transport errors; none may break a request
        logger.warning(
            "Could not publish %s (%s); the periodic sweep will pick it up.", task.name, type(error).__name__
        )
        return False
    return True


def enqueue_on_commit(task, *args, **kwargs) -> None:
    transaction.on_commit(lambda: publish(task, *args, **kwargs))
