"""Check LTI in course_config.py: the course's LTI 1.3 registration in the LMS, used by `labkit passback`
to send grades through Assignment and Grade Services. None (the shipped value) means no passback.
Every wrong value stops with a message naming it, like the other settings."""
from __future__ import annotations

import string
from pathlib import Path
from urllib.parse import urlsplit

URLS = ("issuer", "auth_token_url", "key_set_url")          # required
OPTIONAL_URLS = ("auth_login_url", "auth_audience", "lineitem", "lineitems")
TEXTS = ("client_id", "deployment_id")                     # required
KEYS = (*URLS, *TEXTS, "private_key", *OPTIONAL_URLS, "resource_link_id", "users", "feedback_url")
LOOPBACK = ("localhost", "127.0.0.1", "::1")
PLACEHOLDERS = {"student", "assignment", "course"}
EXAMPLE = ("a dict like {'issuer': 'https://canvas.instructure.com', 'client_id': '10000000000042', "
           "'deployment_id': '...', 'auth_token_url': ..., 'key_set_url': ..., 'private_key': 'lti_private.pem', "
           "'lineitem': ...} (see docs/lms.md), or None")


def _url(name: str, value, fail) -> str:
    """An https URL; http only on this machine (a platform on loopback)."""
    parts = urlsplit(value) if isinstance(value, str) else None
    if (parts is None or parts.scheme not in ("https", "http") or not parts.hostname
            or (parts.scheme == "http" and parts.hostname not in LOOPBACK)):
        raise fail(name, "an https:// URL (http:// only on localhost)", value)
    return value


def _file(name: str, value, config_path: Path, fail) -> Path:
    if not isinstance(value, str) or not value:
        raise fail(name, "the path of a file (relative paths are taken from course_config.py's folder)", value)
    path = Path(value).expanduser()
    return path if path.is_absolute() else config_path.parent / path


def _private_key(name: str, value, config_path: Path, fail) -> Path:
    path = _file(name, value, config_path, fail)
    if not path.is_file():
        raise fail(name, "an existing PEM file with the tool's RSA private key (openssl genrsa -out "
                         "lti_private.pem 2048)", value)
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        key = load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as error:
        raise fail(name, "an unencrypted PEM file with an RSA private key", f"{value} ({error})") from None
    if not isinstance(key, rsa.RSAPrivateKey) or key.key_size < 2048:
        raise fail(name, "an RSA private key of at least 2048 bits", value)
    return path


def _template(name: str, value, fail) -> str:
    try:
        fields = {field for _, field, _, _ in string.Formatter().parse(value) if field is not None}
    except (ValueError, TypeError):
        fields = {"?"}
    if not fields <= PLACEHOLDERS:
        raise fail(name, f"a URL whose only placeholders are {sorted(PLACEHOLDERS)}", value)
    _url(name, value.format(student="s", assignment="a", course="c"), fail)
    return value


def lti(values: dict, config_path: Path, fail) -> dict | None:
    """The checked LTI dict (paths absolute), or None; `fail(name, expected, got)` makes the error."""
    value = values.get("LTI")
    if value is None:
        return None
    if not isinstance(value, dict) or not all(isinstance(key, str) for key in value):
        raise fail("LTI", EXAMPLE, value)
    unknown = sorted(set(value) - set(KEYS))
    if unknown:
        raise fail("LTI", f"a dict with keys among {list(KEYS)} (unknown: {unknown})", sorted(value))
    checked = {}
    for key in (*URLS, *TEXTS, "private_key"):
        if key not in value:
            raise fail(f"LTI[{key!r}]", "set (the LMS shows it when the tool is registered; see docs/lms.md)",
                       None)
    for key in URLS:
        checked[key] = _url(f"LTI[{key!r}]", value[key], fail)
    for key in (k for k in OPTIONAL_URLS if value.get(k) is not None):
        checked[key] = _url(f"LTI[{key!r}]", value[key], fail)
    for key in (*TEXTS, "resource_link_id"):
        if key not in value:
            continue
        raw = value[key]
        if isinstance(raw, bool) or not isinstance(raw, (str, int)) or not str(raw).strip():
            raise fail(f"LTI[{key!r}]", "a non-empty string, as the LMS shows it", raw)
        checked[key] = str(raw).strip()
    if "lineitem" not in checked and "lineitems" not in checked:
        raise fail("LTI['lineitem']", "the URL of the assignment's line item (or LTI['lineitems'], the "
                                      "course's line items, to find or create it)", None)
    if "resource_link_id" in checked and "lineitems" not in checked:
        raise fail("LTI['resource_link_id']", "used with LTI['lineitems'] (to find the line item of that link)",
                   checked["resource_link_id"])
    checked["private_key"] = _private_key("LTI['private_key']", value["private_key"], config_path, fail)
    if value.get("users") is not None:
        checked["users"] = _file("LTI['users']", value["users"], config_path, fail)
    if value.get("feedback_url") is not None:
        checked["feedback_url"] = _template("LTI['feedback_url']", value["feedback_url"], fail)
    return checked
