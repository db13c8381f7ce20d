from django.core.management.base import BaseCommand
from django.utils import timezone

from visits.notifications import due
from visits.notifications import services as notifications


class Command(BaseCommand):
    help = (
        "Run the notification sweep once: derive what became due since the last sweep (with --full, everything), "
        "insert its rows and hand them to the workers."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--full", action="store_true", help="Derive every due fact again, ignoring the producers' watermarks."
        )

    def handle(self, *args, full=False, **options):
        now = timezone.now()
        created = due.create_due(now=now, full=full)
        notifications.notifications_give_up_exhausted(now=now)
        queued = notifications.notifications_enqueue_due(now=now)
        self.stdout.write(
            f"{'Full' if full else 'Incremental'} sweep: {created} new notification rows, {queued} handed to workers."
        )
