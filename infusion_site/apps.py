from django.apps import AppConfig


class InfusionSiteConfig(AppConfig):
    name = "infusion_site"
    verbose_name = "Home infusion"

    def ready(self):
        from infusion_site import audit, middleware  # noqa: F401  (signal receivers)
