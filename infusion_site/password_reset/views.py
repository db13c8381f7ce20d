from django.contrib.auth import views as auth_views
from django.http import HttpResponseRedirect

from infusion_site.client_address import client_address
from infusion_site.password_reset.services import password_reset_request


class PasswordResetView(auth_views.PasswordResetView):
    """Django's "forgot your password" page, except that the mail is the worker's job (services): the answer, and
    the time it takes, are the same for every address, throttled or not."""

    def form_valid(self, form):
        password_reset_request(email=form.cleaned_data["email"], client_address=client_address(self.request))
        return HttpResponseRedirect(self.get_success_url())
