"""Sign-in gating through AppTest with a stubbed identity (AppTest.user stands in for st.user)."""

from __future__ import annotations

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from medai.store import AuditStore
from pages.common import DEMO_BANNER, RESEARCH_USE, RESUME_KEY
from tests.app.conftest import shown
from tests.conftest import REPO

TIMEOUT = 180
AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "0123456789abcdef" * 4,
        "client_id": "medai", "client_secret": "not-a-real-secret",
        "server_metadata_url": "https://idp.example.org/.well-known/openid-configuration"}


@pytest.fixture
def hosted(monkeypatch):
    monkeypatch.setenv("MEDAI_REQUIRE_LOGIN", "1")
    monkeypatch.setenv("MEDAI_ADMINS", "boss@hospital.org")
    monkeypatch.setenv("MEDAI_CLINICIANS", "@hospital.org")


def _app(user: dict | None = None, secrets: dict | None = None) -> AppTest:
    app = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    if user is not None:
        app.user = user
    for key, value in (secrets or {}).items():
        app.secrets[key] = value
    app.run()
    assert not app.exception, app.exception
    return app


def test_demo_mode_is_open_with_a_banner_and_a_name_field():
    app = _app()
    assert any(DEMO_BANNER in warning.value for warning in app.sidebar.warning)
    assert app.text_input(key="user") is not None
    assert AuditStore().events() == []


def test_every_page_says_research_use_in_its_main_area():
    """A portrait tablet folds the sidebar, and its statement, away; Home shows it in full already."""
    app = _app()
    assert not any(RESEARCH_USE in caption.value for caption in app.main.caption)
    app.switch_page("pages/audit.py").run()
    assert any(RESEARCH_USE in caption.value for caption in app.main.caption)


def test_a_deep_link_resumes_its_page_once():
    """A page reached before the router ran is resumed by app.py; a key left behind would jump back on every rerun."""
    app = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    app.session_state[RESUME_KEY] = "pages/audit.py"  # as open_page leaves it
    app.run(timeout=60)  # with the key left behind, app.py would switch to the page again and again
    assert not app.exception
    assert RESUME_KEY not in app.session_state


def test_hosted_mode_stops_at_sign_in(hosted):
    app = _app({"is_logged_in": False}, secrets={"auth": AUTH})
    assert [button.label for button in app.button] == ["Sign in"]
    assert not app.sidebar.warning and "user" not in [t.key for t in app.text_input]
    unconfigured = _app({"is_logged_in": False})
    assert any("no identity provider is configured" in error.value for error in unconfigured.error)


def test_before_sign_in_no_page_is_listed(hosted, monkeypatch):
    """A run that stops before ``st.navigation`` makes Streamlit list every file of pages/ (helper modules
    too); the gate ends its runs with a hidden navigation of every page instead (so a bookmarked page's
    address finds its page, and shows the sign-in)."""
    positions = []
    navigation = st.navigation

    def recording(pages, **options):
        positions.append((options.get("position", "sidebar"), len(pages)))
        return navigation(pages, **options)

    monkeypatch.setattr(st, "navigation", recording)
    _app({"is_logged_in": False}, secrets={"auth": AUTH})
    _app({"is_logged_in": True, "email": "visitor@elsewhere.org"}, secrets={"auth": AUTH})  # no role
    assert positions == [("hidden", 9), ("hidden", 9)]
    _app({"is_logged_in": True, "email": "nurse@hospital.org"}, secrets={"auth": AUTH})
    assert positions[-1] == ("sidebar", 8)  # a clinician: no Admin page


def test_a_signed_in_clinician_gets_in_and_the_sign_in_is_recorded_once(hosted):
    app = _app({"is_logged_in": True, "email": "Nurse@Hospital.org"})
    assert any("nurse@hospital.org" in shown(caption.value) for caption in app.sidebar.caption)
    assert not any(DEMO_BANNER in warning.value for warning in app.sidebar.warning)
    app.run()
    (event,) = AuditStore().events(kind="sign-in")
    assert (event.user, event.details) == ("nurse@hospital.org", {"role": "clinician"})


def test_a_signed_in_stranger_has_no_role(hosted):
    app = _app({"is_logged_in": True, "email": "someone@elsewhere.com"})
    assert any("has no role" in error.value for error in app.error)
    assert [button.label for button in app.button] == ["Sign out"]
    assert AuditStore().events() == []


def test_the_examples_placeholder_secret_lets_nobody_in(hosted):
    # Anyone who knows a published cookie secret can sign a session cookie for any address.
    example = {**AUTH, "cookie_secret": "replace-with-a-long-random-string", "client_id": "replace-with-the-client-id"}
    app = _app({"is_logged_in": True, "email": "boss@hospital.org"}, secrets={"auth": example})
    (error,) = app.error
    assert "Sign-in is switched off" in error.value and "cookie_secret" in error.value and "client_id" in error.value
    assert not app.button and AuditStore().events() == []


def test_sign_in_has_the_library_streamlit_needs():
    # st.login refuses to start without Authlib (streamlit[auth]): hosted mode would lock everyone out.
    from streamlit.auth_util import is_authlib_installed

    assert is_authlib_installed(), "requirements.txt must install Authlib"


def test_a_clinician_sees_only_their_own_records_on_the_audit_log(hosted):
    store = AuditStore()
    for user in ("nurse@hospital.org", "boss@hospital.org", "other@hospital.org"):
        store.record_prediction(user=user, source="ui", model_name="cxr-pneumonia", model_version="2.0.0",
                                input_sha256="ab" * 32, status="ok", label="normal")
    nurse = _app({"is_logged_in": True, "email": "nurse@hospital.org"}, secrets={"auth": AUTH})
    nurse.switch_page("pages/audit.py").run()
    assert not nurse.exception and nurse.dataframe[0].value["user"].tolist() == ["nurse@hospital.org"]
    assert nurse.selectbox(key="audit_user_own").disabled
    boss = _app({"is_logged_in": True, "email": "boss@hospital.org"}, secrets={"auth": AUTH})
    boss.switch_page("pages/audit.py").run()
    assert len(boss.dataframe[0].value) == 3


def test_the_admin_page_itself_refuses_a_clinician(hosted):
    """Besides the sidebar not listing it: a run that reaches the page's script stops there."""
    app = AppTest.from_file(str(REPO / "pages" / "admin.py"), default_timeout=TIMEOUT)
    app.user = {"is_logged_in": True, "email": "nurse@hospital.org"}
    app.session_state["_router_ran"] = True  # as app.py leaves it
    app.run()
    assert not app.exception
    assert any("needs the admin role" in error.value for error in app.error) and not app.dataframe
