import time

from django.core.management.base import BaseCommand, CommandError

from infusion_site.mfa import demo


class Command(BaseCommand):
    help = "Print the current 6-digit sign-in code of a demo staff account (seeded by seed_demo)."

    def add_arguments(self, parser):
        parser.add_argument("username", help="coordinator, nurse1, nurse2 or admin")

    def handle(self, *args, username, **options):
        device = demo.demo_device(username)
        if device is None:
            raise CommandError(
                f"{username!r} has no demo authenticator. Run `manage.py seed_demo` in development "
                "(or with DEMO_MFA_SECRETS=1) first; demo secrets exist for: " + ", ".join(demo.DEMO_SECRETS)
            )
        left = device.step - int(time.time() - device.t0) % device.step
        self.stdout.write(demo.current_code(device))
        self.stderr.write(f"Valid for {left} more seconds.")
