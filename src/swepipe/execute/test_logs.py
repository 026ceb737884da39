"""Test ids and test-runner output: which tests to run, and what happened to each.

Two id styles occur in SWE-bench's FAIL_TO_PASS / PASS_TO_PASS lists:

- pytest node ids: `tests/test_x.py::TestC::test_m[param]`;
- Django `runtests.py` labels as unittest prints them: `test_m (app.tests.TestC)`, or on
  Python >= 3.11 `test_m (app.tests.TestC.test_m)`; and, for tests with a docstring, the
  docstring's first line (what SWE-bench's log parser recorded).

Outcome mapping (as SWE-bench grades): PASSED, XFAIL and XPASS (non-strict) are `passed`;
FAILED is `failed`; ERROR is `error`; SKIPPED is `skipped`, which passes a PASS_TO_PASS test
only. (The official harness's own parsers, for its logs, are in `log_parsers.py`.)
"""

from __future__ import annotations

import re
from typing import Literal

Status = Literal["passed", "failed", "error", "skipped"]

_PYTEST_MAP: dict[str, Status] = {"PASSED": "passed", "XFAIL": "passed", "XPASS": "passed",
                                  "FAILED": "failed", "ERROR": "error", "SKIPPED": "skipped"}
_PYTEST_SUMMARY = re.compile(r"^(?P<st>PASSED|FAILED|ERROR|XFAIL|XPASS) (?P<id>\S+?::.+?)"
                             r"(?: - .*)?$")
_PYTEST_VERBOSE = re.compile(r"^(?P<id>\S+?::.+?) (?P<st>PASSED|FAILED|ERROR|SKIPPED|XFAIL|"
                             r"XPASS)(?: .*)?$")  # then `(reason)` and/or `[ 40%]`

_DJANGO_ID = re.compile(r"^(?P<name>\w+) \((?P<where>[\w.]+)\)$")
_DJANGO_RESULT = re.compile(r"^(?P<head>.*?) \.\.\. (?P<res>ok|OK|FAIL|ERROR|skipped.*|"
                            r"expected failure|unexpected success)\s*$")
_DJANGO_SUMMARY = re.compile(r"^(?P<res>FAIL|ERROR): (?P<id>\w+ \([\w.]+\))")
_DJANGO_MAP: dict[str, Status] = {"ok": "passed", "OK": "passed", "FAIL": "failed",
                                  "ERROR": "error", "expected failure": "passed",
                                  "unexpected success": "failed"}


def is_django_id(test_id: str) -> bool:
    return bool(_DJANGO_ID.match(test_id.strip()))


def canonical_django_id(test_id: str) -> str:
    """`test_m (app.TestC.test_m)` (Python >= 3.11) -> `test_m (app.TestC)`; others unchanged."""
    m = _DJANGO_ID.match(test_id.strip())
    if not m:
        return test_id.strip()
    where = m["where"]
    if where.endswith("." + m["name"]):
        where = where[: -len(m["name"]) - 1]
    return f"{m['name']} ({where})"


def django_label(test_id: str) -> str | None:
    """The runtests.py label that runs one test (`app.tests.TestC.test_m`); None for a
    docstring-style id that names no test."""
    m = _DJANGO_ID.match(canonical_django_id(test_id))
    return f"{m['where']}.{m['name']}" if m else None


def django_module_label(path: str) -> str | None:
    """`tests/app/test_x.py` -> `app.test_x` (SWE-bench's test directive for Django)."""
    if not path.endswith(".py") or not path.startswith("tests/"):
        return None
    return path[len("tests/"):-3].replace("/", ".")


def pytest_file(test_id: str) -> str:
    return test_id.split("::", 1)[0]


def parse_pytest(log: str) -> dict[str, Status]:
    """Outcomes from `pytest -rA -v` output: the short summary (`-rA`) wins over the verbose
    lines, which alone carry skipped tests' node ids."""
    found: dict[str, Status] = {}
    for line in log.splitlines():
        if m := _PYTEST_VERBOSE.match(line.rstrip()):
            found.setdefault(m["id"], _PYTEST_MAP[m["st"]])
    for line in log.splitlines():
        if m := _PYTEST_SUMMARY.match(line.rstrip()):
            found[m["id"]] = _PYTEST_MAP[m["st"]]
    return found


def _django_status(res: str) -> Status:
    return "skipped" if res.startswith("skipped") else _DJANGO_MAP[res]


def parse_django(log: str) -> dict[str, Status]:
    """Outcomes from `runtests.py --verbosity 2` (unittest) output, keyed by the canonical id;
    a test with a docstring is also keyed by the docstring's first line."""
    found: dict[str, Status] = {}
    pending: str | None = None  # `test_m (app.TestC)` printed alone; its docstring line follows
    for raw in log.splitlines():
        line = raw.rstrip()
        if m := _DJANGO_RESULT.match(line):
            head, status = m["head"].strip(), _django_status(m["res"])
            if is_django_id(head):
                found[canonical_django_id(head)] = status
            else:
                found[head] = status  # the docstring line SWE-bench keys such tests by
                if pending:
                    found[pending] = status
            pending = None
        elif is_django_id(line.strip()):
            pending = canonical_django_id(line.strip())
        elif m := _DJANGO_SUMMARY.match(line):
            key = canonical_django_id(m["id"])
            # the failure section is authoritative when the result line was lost in output
            found.setdefault(key, "failed" if m["res"] == "FAIL" else "error")
    return found


def lookup(found: dict[str, Status], test_id: str, django: bool) -> Status | None:
    """The outcome recorded for `test_id`, trying its canonical Django form too."""
    if test_id in found:
        return found[test_id]
    if django:
        return found.get(canonical_django_id(test_id))
    return None
