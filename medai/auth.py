"""Who may use the workbench, and as what: pure functions over a configuration and identity claims.

Two modes:

* **demo** (the default on a workstation): no sign-in; everyone may do everything, the pages show a
  banner saying so, and the audit trail records the name typed in the sidebar;
* **hosted**: when ``[auth]`` is configured in ``.streamlit/secrets.toml`` (Streamlit's OIDC
  sign-in, ``st.login``) or ``MEDAI_REQUIRE_LOGIN=1``; every page needs a signed-in user with a
  role, and the audit trail records the signed-in e-mail address.

Roles come from e-mail lists (``[medai.roles]`` ``admins`` / ``clinicians`` in the secrets, or the
comma-separated ``MEDAI_ADMINS`` / ``MEDAI_CLINICIANS``); an entry ``@hospital.org`` admits a whole
domain. Optionally a claim of the identity provider (``[medai.roles] claim = "roles"`` or
``MEDAI_ROLE_CLAIM``) may carry ``admin`` / ``clinician`` directly. An admin may do everything a
clinician may. Nothing here imports Streamlit: the pages pass ``st.secrets`` and ``st.user`` in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from medai.config import SWITCH_ON

ADMIN, CLINICIAN = "admin", "clinician"
RANK = {CLINICIAN: 1, ADMIN: 2}


@dataclass(frozen=True)
class AuthConfig:
    """How sign-in and roles are configured.

    Attributes
    ----------
    required : bool
        Hosted mode: a signed-in user with a role is needed for every page.
    provider_configured : bool
        Whether ``[auth]`` exists in the secrets (``st.login`` can work).
    admins, clinicians : frozenset of str
        Lower-case e-mail addresses, or ``@domain`` entries.
    role_claim : str or None
        Name of an identity claim holding role names, if roles come from the provider.
    provider_problems : tuple of str
        Why ``[auth]`` must not be trusted (a placeholder left from the example, a short cookie secret):
        anyone who knows the secret could sign a session cookie, so nobody is let in until it is fixed.
    """

    required: bool = False
    provider_configured: bool = False
    admins: frozenset[str] = frozenset()
    clinicians: frozenset[str] = frozenset()
    role_claim: str | None = None
    provider_problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class Identity:
    """The person behind a session, as far as the app is concerned.

    Attributes
    ----------
    mode : str
        ``"demo"`` or ``"hosted"``.
    signed_in : bool
        Hosted mode: whether the identity provider vouched for someone.
    email : str or None
        The signed-in address (hosted mode only).
    role : str or None
        ``"admin"``, ``"clinician"``, or ``None`` (signed in without a role, or not signed in).
    """

    mode: str
    signed_in: bool = False
    email: str | None = None
    role: str | None = None

    @property
    def demo(self) -> bool:
        """Whether sign-in is off (local demo mode)."""
        return self.mode == "demo"

    def can(self, role: str) -> bool:
        """Whether this identity holds ``role`` or a higher one (an admin can act as a clinician)."""
        return self.role is not None and RANK[self.role] >= RANK[role]


def _entries(value: Any) -> frozenset[str]:
    """Addresses from a list or a comma/space separated string, lower-cased."""
    if value is None:
        return frozenset()
    items: Iterable[Any] = value.replace(",", " ").split() if isinstance(value, str) else value
    return frozenset(str(item).strip().lower() for item in items if str(item).strip())


MIN_COOKIE_SECRET = 32  # characters; `secrets.token_hex(32)` gives 64
PLACEHOLDER = "replace-with"  # how .streamlit/secrets.toml.example marks each value to fill in


def provider_problems(section: Mapping[str, Any]) -> tuple[str, ...]:
    """What makes an ``[auth]`` section unsafe to trust: placeholders, a missing or short cookie secret."""
    problems = []
    secret = str(section.get("cookie_secret") or "")
    if len(secret) < MIN_COOKIE_SECRET or PLACEHOLDER in secret:
        problems.append(f"cookie_secret must be a random string of at least {MIN_COOKIE_SECRET} characters "
                        "(python -c \"import secrets; print(secrets.token_hex(32))\")")

    def placeholders(values: Mapping[str, Any], prefix: str = "") -> list[str]:
        found = []
        for key, value in values.items():
            if isinstance(value, Mapping):
                found += placeholders(value, f"{prefix}{key}.")
            elif key != "cookie_secret" and PLACEHOLDER in str(value):
                found.append(prefix + key)
        return found

    if names := placeholders(section):
        problems.append("still the example's placeholders: " + ", ".join(names))
    return tuple(problems)


def config_from(secrets: Mapping[str, Any], environ: Mapping[str, str]) -> AuthConfig:
    """The configuration from the secrets (``st.secrets`` as a dict) and the environment.

    Parameters
    ----------
    secrets : mapping
        May hold ``auth`` (Streamlit's OIDC section) and ``medai.roles`` (``admins``,
        ``clinicians``, ``claim``).
    environ : mapping
        ``MEDAI_REQUIRE_LOGIN``, ``MEDAI_ADMINS``, ``MEDAI_CLINICIANS``, ``MEDAI_ROLE_CLAIM``.
    """
    roles = (secrets.get("medai") or {}).get("roles") or {}
    provider = bool(secrets.get("auth"))
    return AuthConfig(
        required=provider or environ.get("MEDAI_REQUIRE_LOGIN", "").strip().lower() in SWITCH_ON,
        provider_configured=provider,
        admins=_entries(roles.get("admins")) | _entries(environ.get("MEDAI_ADMINS")),
        clinicians=_entries(roles.get("clinicians")) | _entries(environ.get("MEDAI_CLINICIANS")),
        role_claim=roles.get("claim") or environ.get("MEDAI_ROLE_CLAIM") or None,
        provider_problems=provider_problems(secrets["auth"]) if provider else (),
    )


def _listed(email: str, entries: frozenset[str]) -> bool:
    domain = "@" + email.rpartition("@")[2]
    return email in entries or domain in entries


def role_for(email: str | None, claims: Mapping[str, Any], config: AuthConfig) -> str | None:
    """The highest role an address (or the provider's role claim) grants, or ``None``.

    An address the provider marks unverified (``email_verified`` false) grants nothing.
    """
    granted: set[str] = set()
    # Some providers send the claim as text ("false", "False"); either way it withholds every role.
    if email and str(claims.get("email_verified", True)).strip().lower() != "false":
        address = email.strip().lower()
        if _listed(address, config.admins):
            granted.add(ADMIN)
        if _listed(address, config.clinicians):
            granted.add(CLINICIAN)
    if config.role_claim:
        granted |= {name for name in _entries(claims.get(config.role_claim)) if name in RANK}
    return max(granted, key=RANK.__getitem__) if granted else None


def identify(claims: Mapping[str, Any] | None, config: AuthConfig) -> Identity:
    """The session's identity from the provider's claims (``st.user`` as a dict) and the configuration."""
    if not config.required:
        return Identity("demo", role=ADMIN)
    claims = claims or {}
    if not claims.get("is_logged_in") or config.provider_problems:  # an untrusted secret vouches for no one
        return Identity("hosted")
    email = str(claims.get("email") or "").strip().lower() or None
    return Identity("hosted", signed_in=True, email=email, role=role_for(email, claims, config))
