from django.conf import settings

from infusion_site.roles import role_of


def site(request):
    return {
        "agency": {
            "name": settings.AGENCY_NAME,
            "phone": settings.AGENCY_PHONE,
            "email": settings.AGENCY_EMAIL,
            "hours": settings.AGENCY_HOURS,
        },
        "user_role": role_of(getattr(request, "user", None)),
    }
