"""Roles from configuration and claims: demo mode open, hosted mode by e-mail lists, domains or a claim."""

import pytest

from medai import auth
from medai.auth import ADMIN, CLINICIAN, config_from, identify, role_for

SECRETS = {"auth": {"redirect_uri": "http://localhost:8501/oauth2callback", "client_id": "x", "cookie_secret": "c" * 64},
           "medai": {"roles": {"admins": ["Boss@Hospital.org"], "clinicians": ["@hospital.org", "gp@clinic.net"]}}}


def test_demo_mode_is_open_and_says_so():
    config = config_from({}, {})
    assert not config.required
    identity = identify(None, config)
    assert identity.demo and identity.can(ADMIN) and identity.email is None


def test_hosted_by_secrets_or_by_the_environment():
    assert config_from(SECRETS, {}).required and config_from(SECRETS, {}).provider_configured
    flagged = config_from({}, {"MEDAI_REQUIRE_LOGIN": "1", "MEDAI_ADMINS": "a@x.org, b@x.org",
                               "MEDAI_CLINICIANS": "c@x.org"})
    assert flagged.required and not flagged.provider_configured
    assert flagged.admins == {"a@x.org", "b@x.org"} and flagged.clinicians == {"c@x.org"}


def test_roles_from_lists_and_domains():
    config = config_from(SECRETS, {"MEDAI_ADMINS": "ops@clinic.net"})
    assert role_for("boss@hospital.org", {}, config) == ADMIN
    assert role_for("nurse@HOSPITAL.org", {}, config) == CLINICIAN
    assert role_for("gp@clinic.net", {}, config) == CLINICIAN
    assert role_for("ops@clinic.net", {}, config) == ADMIN
    assert role_for("someone@elsewhere.com", {}, config) is None
    assert role_for("boss@hospital.org", {"email_verified": False}, config) is None


def test_roles_from_a_provider_claim():
    config = config_from({"medai": {"roles": {"claim": "groups"}}}, {"MEDAI_REQUIRE_LOGIN": "yes"})
    assert role_for("x@y.org", {"groups": ["staff", "clinician"]}, config) == CLINICIAN
    assert role_for("x@y.org", {"groups": "admin"}, config) == ADMIN
    assert role_for("x@y.org", {"groups": ["staff"]}, config) is None


def test_hosted_identity_needs_a_sign_in_and_a_role():
    config = config_from(SECRETS, {})
    assert identify({"is_logged_in": False}, config) == identify(None, config)
    nobody = identify(None, config)
    assert not nobody.signed_in and not nobody.can(CLINICIAN) and not nobody.demo
    stranger = identify({"is_logged_in": True, "email": "who@elsewhere.com"}, config)
    assert stranger.signed_in and stranger.role is None and not stranger.can(CLINICIAN)
    clinician = identify({"is_logged_in": True, "email": "Nurse@hospital.org"}, config)
    assert clinician.email == "nurse@hospital.org" and clinician.can(CLINICIAN) and not clinician.can(ADMIN)
    admin = identify({"is_logged_in": True, "email": "boss@hospital.org"}, config)
    assert admin.can(ADMIN) and admin.can(CLINICIAN)


def test_an_auth_section_with_placeholders_or_a_short_secret_is_not_trusted():
    good = {"cookie_secret": "f" * 64, "client_id": "medai", "redirect_uri": "https://medai.example.org/oauth2callback"}
    assert auth.provider_problems(good) == ()
    assert len(auth.provider_problems({**good, "cookie_secret": "short"})) == 1
    (problem,) = auth.provider_problems({**good, "google": {"client_secret": "replace-with-the-client-secret"}})
    assert problem.endswith("google.client_secret")
    config = auth.config_from({"auth": {**good, "cookie_secret": "replace-with-a-long-random-string"},
                               "medai": {"roles": {"admins": ["boss@hospital.org"]}}}, {})
    assert config.required and config.provider_problems
    assert not auth.identify({"is_logged_in": True, "email": "boss@hospital.org"}, config).signed_in


@pytest.mark.parametrize("verified", [False, "false", "False"])
def test_an_unverified_address_grants_nothing_however_the_claim_is_written(verified):
    config = config_from(SECRETS, {})
    assert role_for("boss@hospital.org", {"email_verified": verified}, config) is None
    assert role_for("boss@hospital.org", {"email_verified": True}, config) == ADMIN


def test_a_cookie_secret_needs_32_characters():
    assert auth.provider_problems({"cookie_secret": "k" * 31})
    assert auth.provider_problems({"cookie_secret": "k" * 32}) == ()
