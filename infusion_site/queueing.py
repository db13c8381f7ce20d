"""Publishing Celery tasks from web requests without ever waiting on Redis.

Services ask for work by task name (``enqueue_on_commit("visits.tasks.notify_now", [...])``), so a service never
imports the Celery entry points that call it: tasks call services, never the other way round.

Tasks are published only after the surrounding transaction commits, so a worker
never looks for a row that is not there yet. If the broker cannot be reached the
publish fails fast (see the CELERY_BROKER_* settings) and is logged; the work is
not lost because every task here has a database row that a periodic sweep picks up.
"""

import logging
from importlib import import_module

from django.db import transaction

logger = logging.getLogger(__name__)


def task_named(task):
    """The task itself, given it or its registered name (an unknown name fails at once, not in a worker)."""
    if not isinstance(task, str):
        return task
    from infusion_site.celery import app

    if task not in app.tasks:
        # A web process has not imported the Celery entry points (a worker discovers them at start-up); a
        # task's name is its module's path and its own name.
        import_module(task.rpartition(".")[0])
    return app.tasks[task]


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
