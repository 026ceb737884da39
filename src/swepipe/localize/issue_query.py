"""The issue as a lexical query: the parts of an issue that say nothing about the code, removed.

Two kinds of text fill many issues and match the wrong files:
- template comments (`<!-- Please describe the bug ... -->`): GitHub does not render them, so
  they are the repository's issue template, the same words in every issue;
- environment dumps (`xr.show_versions()`, `python -m requests.help`, `pip freeze`): a line per
  package, `numpy: 1.19.1`, `setuptools==49.6.0`, `LANG: en_US.UTF-8`, which make
  `util/print_versions.py` or `help.py` look relevant to every issue that pastes one.
A dump line is a short `name: value` / `name==value` / `name value` line whose value is a
version, a number, `None`, `True` or `False`; prose, code and tracebacks stay (a traceback line
never has that shape, and a line starting with a statement keyword, `return None`, is code).
Measured in docs/localization.md.
"""

from __future__ import annotations

import re

_COMMENT = re.compile(r"<!--.*?-->", re.S)
# a statement keyword first is code (`return None`), not a package
_VERSION_LINE = re.compile(
    r"^[ \t>*-]*(?!(?:return|yield|raise|assert|del|if|elif|while|not|await|lambda)\b)"
    r"[\w.\-]+(?:[ \t][\w.\-]+)?[ \t]*(?::|==|>=|<=)?[ \t]*"
    r"(?:v?\d+(?:\.\d+)+[\w.+\-]*|None|True|False|\d+)[^\n]{0,60}$", re.M)


def strip_comments(text: str) -> str:
    """The text without HTML comments (an issue template's invisible instructions)."""
    return _COMMENT.sub(" ", text)


def strip_version_lines(text: str) -> str:
    """The text without environment-dump lines (`numpy: 1.19.1`, `pip==20.2`, `LC_ALL: None`)."""
    return _VERSION_LINE.sub("", text)


def issue_query(text: str, *, comments: bool = True, versions: bool = True) -> str:
    """`text` with template comments and/or environment-dump lines removed."""
    if comments:
        text = strip_comments(text)
    if versions:
        text = strip_version_lines(text)
    return text
