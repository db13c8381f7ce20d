from django.core.management.base import BaseCommand

from infusion_site.mfa import demo as mfa_demo
from patients import demo as patient_demo
from visits.demo import charts as demo_charts
from visits.demo import notifications as demo_notifications
from visits.demo import orders as visit_demo
from visits.demo import scig as demo_scig


class Command(BaseCommand):
    help = "Create or refresh the demonstration accounts and data (safe to run again)."

    def handle(self, *args, **options):
        users = patient_demo.seed_accounts()
        patients = patient_demo.seed_patients(users)
        visit_demo.seed_nurses(users)
        orders = visit_demo.seed_orders(users)
        charts = demo_charts.seed_charts(users)
        demo_scig.seed_scig(users)
        demo_notifications.seed_notifications(users)
        if mfa_demo.fixed_secrets_allowed():
            secrets = mfa_demo.seed_demo_devices(users)
            self.stdout.write(
                "Demo authenticator secrets (demo only; `manage.py demo_code <username>` prints the current code): "
                + ", ".join(f"{username} {secret}" for username, secret in secrets.items())
            )
        else:
            self.stdout.write(
                self.style.WARNING(
                    "DEBUG is off, so no fixed authenticator secrets were made: demo staff set up their own app at "
                    "first sign-in. Set DEMO_MFA_SECRETS=1 if this really is a demo."
                )
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo ready: {len(users)} accounts ({', '.join(users)}), {len(patients)} patients, "
                f"{orders} new orders, {charts} newly charted visits; reminders fall due within minutes. "
                "Password: the DEMO_PASSWORD variable, or the default in the README."
            )
        )
