"""Deny-by-default helpers for views.

Lists are scoped with each model's ``visible_to(user)``; a single object is looked
up inside that scope, so an object the user may not see answers 404 and reveals
nothing, not even that it exists.
"""

from functools import wraps

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404


def role_required(*predicates):
    """Allow the view only to users for whom one of the rules predicates holds (else 403)."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not any(predicate.test(request.user) for predicate in predicates):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def get_visible_or_404(model, user, **lookup):
    return get_object_or_404(model.objects.visible_to(user), **lookup)
