"""Publishing Celery tasks from web requests without ever waiting on Redis.

Services ask for work by task name (``enqueue_on_commit("visits.tasks.notify_now", [...])``), so a service never
imports the Celery entry points that call it: tasks call services, never the other way round.

Tasks are published only after the surrounding transaction commits, so a worker
never looks for a row that is not there yet. If the broker cannot be reached the
publish fails fast (see the CELERY_BROKER_* settings) and is logged; the work is
not lost because every task here has a database row that a periodic sweep picks up.
"""

import functools
import logging

from django.db import transaction

logger = logging.getLogger(__name__)


@functools.cache
def _registry():
    from infusion_site.celery import app

    # The web process never runs Celery's autodiscovery on its own; a worker does it at start-up.
    app.loader.import_default_modules()
    return app.tasks


def task_named(task):
    """The task itself, given it or its registered name (an unknown name fails at once, not in the worker)."""
    return _registry()[task] if isinstance(task, str) else task


def publish(task, *args, **kwargs) -> bool:
    task = task_named(task)
    try:
        task.apply_async(args=args, kwargs=kwargs)
    except Exception as error:  # kombu raises several transport errors; none may break a request
        logger.warning(
            "Could not publish %s (%s); the periodic sweep will pick it up.", task.name, type(error).__name__
        )
        return False
    return True


def enqueue_on_commit(task, *args, **kwargs) -> None:
    task = task_named(task)
    transaction.on_commit(lambda: publish(task, *args, **kwargs))
