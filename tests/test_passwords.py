"""Chosen passwords: strong by zxcvbn's estimate, and none of what an attacker tries first here."""

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.urls import reverse

from infusion_site.password_validation import KnownPasswordValidator, StrengthValidator
from tests.conftest import client_for
from tests.factories import PASSWORD

STRONG = "violet-harbour-lantern-42"


def refusals(password, user=None) -> list[str]:
    try:
        password_validation.validate_password(password, user)
    except ValidationError as error:
        return error.messages
    return []


def change_password(client, new_password):
    return client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": new_password, "new_password2": new_password},
    )


def test_both_validators_are_in_use():
    names = [validator["NAME"] for validator in settings.AUTH_PASSWORD_VALIDATORS]
    assert "infusion_site.password_validation.StrengthValidator" in names
    assert "infusion_site.password_validation.KnownPasswordValidator" in names
    assert settings.PASSWORD_MINIMAL_STRENGTH == 3
    assert any(isinstance(v, StrengthValidator) for v in password_validation.get_default_password_validators())


def test_a_strong_password_passes_every_validator(cast):
    assert refusals(STRONG, cast.patient_user) == []


# --- zxcvbn -------------------------------------------------------------------------------------------------


def test_a_guessable_password_of_twelve_characters_is_refused_by_zxcvbn(cast):
    messages = refusals("Password2026", cast.patient_user)
    assert messages and messages[0].startswith("Your password is too guessable")


def test_zxcvbn_knows_the_users_own_details(cast):
    # Good enough for a stranger; guessable for Marisol Delacroix, whose name it is.
    assert refusals("Delacroix2026!", None) == []
    assert any("too guessable" in message for message in refusals("Delacroix2026!", cast.patient_user))


def test_a_long_passphrase_is_not_refused_for_its_length(cast):
    passphrase = "the violet harbour lantern swings at dusk over the quiet grey water of the bay, " * 2
    assert len(passphrase) > 72
    assert refusals(passphrase, cast.patient_user) == []


# --- Our own rules ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("password", ["infusion-demo-2026", "Infusion-Demo-2026", "my-infusion-demo-2026-x"])
def test_the_demo_password_is_refused(cast, password):
    with pytest.raises(ValidationError) as refused:
        KnownPasswordValidator().validate(password, cast.patient_user)
    assert refused.value.messages == [
        "This is the demo password, which is published in our instructions. Choose one of your own."
    ]
    assert refused.value.messages[0] in refusals(password, cast.patient_user)


def test_the_demo_password_is_the_one_the_settings_name(cast, settings):
    settings.DEMO_PASSWORD = "our-own-demo-secret-99"
    assert any("demo password" in message for message in refusals("our-own-demo-secret-99", cast.patient_user))
    assert refusals("infusion-demo-2026", cast.patient_user) == []  # zxcvbn rates it 4; no longer the demo's


def test_the_demo_password_is_refused_with_debug_off_and_on(cast, settings):
    for debug in (False, True):
        settings.DEBUG = debug
        assert any("demo password" in message for message in refusals("infusion-demo-2026", cast.coordinator))


def test_seed_demo_still_gives_the_demo_accounts_the_demo_password(db, monkeypatch):
    from patients.demo import seed_accounts

    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    users = seed_accounts()
    assert users["nurse1"].check_password("infusion-demo-2026")
    assert get_user_model().objects.get(username="coordinator").check_password("infusion-demo-2026")


def test_the_username_typed_twice_is_refused(cast):
    # zxcvbn rates this 4 of 4: it does not know that the username is what an attacker tries first.
    password = "Patient-A-Patient-A!"
    assert cast.patient_user.username == "patient-a"
    messages = refusals(password, cast.patient_user)
    assert messages == [
        "This password is your username typed more than once. Choose something no one could guess from it."
    ]
    assert refusals(password, cast.other_patient_user) == []


def test_one_character_repeated_is_refused(cast):
    for password in ("zzzzzzzzzzzzzzzz", "                "):
        with pytest.raises(ValidationError) as refused:
            KnownPasswordValidator().validate(password, cast.patient_user)
        assert refused.value.messages == ["This password is one character repeated. Choose something harder to guess."]


def test_our_rules_have_help_text():
    assert "demo password" in KnownPasswordValidator().get_help_text()


# --- On the pages ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "password, message",
    [
        ("infusion-demo-2026", "This is the demo password, which is published in our instructions."),
        ("Patient-A-Patient-A!", "This password is your username typed more than once."),
        ("Password2026", "Your password is too guessable"),
    ],
)
def test_changing_to_a_refused_password_shows_why_and_changes_nothing(cast, password, message):
    response = change_password(client_for(cast.patient_user), password)

    assert response.status_code == 200
    assert any(message in error for error in response.context["form"].errors["new_password2"])
    assert message in response.content.decode()
    cast.patient_user.refresh_from_db()
    assert cast.patient_user.check_password(PASSWORD)


def test_changing_to_a_strong_password_works(cast):
    response = change_password(client_for(cast.patient_user), STRONG)
    assert response.status_code == 302
    cast.patient_user.refresh_from_db()
    assert cast.patient_user.check_password(STRONG)
