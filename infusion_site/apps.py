from django.apps import AppConfig


class InfusionSiteConfig(AppConfig):
    name = "infusion_site"
    verbose_name = "Home infusion"

    def ready(self):
        from auditlog.registry import auditlog

        from infusion_site import audit, middleware  # noqa: F401  (signal receivers)
        from infusion_site.devices import signals  # noqa: F401  (sign-in and sign-out record the device)
        from infusion_site.models import UserSession

        # The session key is a credential: never copied into the audit trail. "Last seen" moves every minute.
        auditlog.register(UserSession, exclude_fields=["session_key", "last_seen_at"])
