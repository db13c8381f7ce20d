"""Password rules of our own, next to Django's and zxcvbn's in AUTH_PASSWORD_VALIDATORS.

The validators run wherever a person chooses a password (the set-password page of an invitation, a reset, a
change, the admin); ``seed_demo`` sets the demo accounts' passwords directly, so none of this stands in its way.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django_zxcvbn_password_validator import ZxcvbnPasswordValidator

# zxcvbn refuses to score more than 72 characters; a longer passphrase is scored on its first 72 (the rest can only
# make it harder to guess), instead of being refused for being long.
ZXCVBN_MAX_LENGTH = 72


class StrengthValidator(ZxcvbnPasswordValidator):
    """zxcvbn's estimate of how guessable the password is (score ``PASSWORD_MINIMAL_STRENGTH``, 3 of 4)."""

    def _run_zxcvbn(self, password, user=None):
        return super()._run_zxcvbn(password[:ZXCVBN_MAX_LENGTH], user)


class KnownPasswordValidator:
    """Refuses what an attacker tries first on this site: the demo password printed in the README, the username
    typed twice, and one key held down."""

    def validate(self, password: str, user=None) -> None:
        folded = password.casefold()
        demo = settings.DEMO_PASSWORD.casefold()
        if demo and demo in folded:
            raise ValidationError(
                "This is the demo password, which is published in our instructions. Choose one of your own.",
                code="password_is_demo",
            )
        username = (user.get_username() if user is not None else "").casefold()
        if username and folded.count(username) >= 2:
            raise ValidationError(
                "This password is your username typed more than once. Choose something no one could guess from it.",
                code="password_repeats_username",
            )
        if password and len(set(password)) == 1:
            raise ValidationError(
                "This password is one character repeated. Choose something harder to guess.",
                code="password_one_character",
            )

    def get_help_text(self) -> str:
        return "Your password cannot be the demo password, your username repeated, or one character repeated."
