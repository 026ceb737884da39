"""Keep secrets out of everything swepipe writes about an endpoint.

Endpoints carry secrets two ways besides the API key (which only travels in a header): URL
credentials (`https://user:SECRET@host/v1`) and key-like query parameters (`?api-key=SECRET`,
`key`, `token`, `access_token`, `sig`, AWS's `X-Amz-Signature`, ...). Every place an endpoint or
an error about one is written (exception messages, hence `stage_runs.error_message` and
`sequences.error`; log lines; `runs.settings`; anything printed) passes through `redact_url` or
`redact_text`, so exports of the store never hold them either.

- `redact_url(url)`: the whole user-info becomes `[redacted]@` (a lone user name is often the
  token itself); the value of every key-like query parameter becomes `[redacted]`; the rest (host,
  path, `api-version`, ...) stays, since it is what one needs to debug a failing call.
- `redact_text(text, secrets)`: every URL in free text redacted as above, then every given secret
  string (the API key, and a URL's secrets as `url_secrets` lists them, raw and %-decoded)
  replaced wherever it appears: servers echo what they were sent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import SplitResult, unquote_plus, urlsplit, urlunsplit

REDACTED = "[redacted]"

# Parameter names (lower case, separators dropped) that hold credentials: an exact name, or one
# ending in a credential word (`apikey`, `xapikey`, `accesstoken`, `xamzsignature`, `clientsecret`).
_KEY_NAMES = frozenset({"key", "sig", "code", "auth", "pass", "pwd", "session"})
_KEY_ENDINGS = ("key", "token", "secret", "signature", "password", "passwd", "credential",
                "credentials", "auth", "authorization")
_MIN_ECHO = 4
# a URL in prose ends before trailing punctuation (`... at http://h/v1: refused`)
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>`]*[^\s'\"<>`.,:;!?)]")


def is_secret_param(name: str) -> bool:
    """Whether a query parameter's value is a credential (by its name)."""
    flat = re.sub(r"[^a-z0-9]", "", unquote_plus(name).lower())
    return flat in _KEY_NAMES or flat.endswith(_KEY_ENDINGS)


def _split(url: str) -> tuple[SplitResult | None, str | None]:
    """(`url` parsed without its user-info, the user-info or None). The user-info is cut off
    first, by hand: a `[redacted]@` already in it would read as an IPv6 bracket."""
    scheme, sep, rest = url.partition("://")
    userinfo = None
    if sep:
        end = min((i for i in map(rest.find, "/?#") if i >= 0), default=len(rest))
        if "@" in rest[:end]:
            userinfo, _, host = rest[:end].rpartition("@")
            url = f"{scheme}://{host}{rest[end:]}"
    try:
        return urlsplit(url), userinfo
    except ValueError:  # e.g. an unbalanced IPv6 bracket
        return None, userinfo


def _query_pairs(query: str) -> list[tuple[str, str | None]]:
    return [(name, value if sep else None)
            for name, sep, value in (part.partition("=") for part in query.split("&"))]


def redact_url(url: str) -> str:
    """`url` with its user-info and key-like query values replaced by `[redacted]`."""
    parts, userinfo = _split(url)
    if parts is None:
        return REDACTED if userinfo is not None or "?" in url else url
    netloc = parts.netloc if userinfo is None else f"{REDACTED}@{parts.netloc}"
    # a fragment can carry parameters too (OAuth's `#access_token=...`)
    query, fragment = (_redact_params(p) for p in (parts.query, parts.fragment))
    return urlunsplit(parts._replace(netloc=netloc, query=query, fragment=fragment))


def _redact_params(query: str) -> str:
    if "=" not in query:
        return query
    return "&".join(name if value is None else
                    f"{name}={REDACTED if is_secret_param(name) else value}"
                    for name, value in _query_pairs(query))


def url_secrets(url: str) -> list[str]:
    """The secret strings inside `url` (user-info parts, key-like query values) of 4 or more
    characters, raw and %-decoded, longest first (a secret containing another goes whole)."""
    parts, userinfo = _split(url)
    found: list[str] = []
    if userinfo is not None:
        user, colon, password = userinfo.partition(":")
        # with a password the user name is an identifier; alone it is often the token
        found += [userinfo, password] if colon else [user]
    if parts is not None:
        found += [value for params in (parts.query, parts.fragment)
                  for name, value in _query_pairs(params) if value and is_secret_param(name)]
    found += [unquote_plus(s) for s in found]
    # shorter strings are not looked for in free text (`x=1` would blank every "1"); URLs in
    # that text are still redacted by their structure
    return sorted({s for s in found if len(s) >= _MIN_ECHO}, key=len, reverse=True)


def redact_text(text: str, secrets: Iterable[str | None] = ()) -> str:
    """`text` with every URL redacted and every one of `secrets` replaced."""
    text = _URL.sub(lambda m: redact_url(m.group()), text)
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text
