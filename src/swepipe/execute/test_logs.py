"""Test ids and test-runner output: which tests to run, and what happened to each.

Two id styles occur in SWE-bench's FAIL_TO_PASS / PASS_TO_PASS lists:

- pytest node ids: `tests/test_x.py::TestC::test_m[param]`;
- Django `runtests.py` labels as unittest prints them: `test_m (app.tests.TestC)`, or on
  Python >= 3.11 `test_m (app.tests.TestC.test_m)`; and, for tests with a docstring, the
  docstring's first line (what SWE-bench's log parser recorded).

The output is read with the official harness's parsers (`log_parsers.py`) and graded with its
rules (`grading.grade`), so a local run and a harness run of the same candidate get the same
verdict; this module only adds what a local run needs around them: which tests to run, and
Django ids as Python >= 3.11 prints them.
"""

from __future__ import annotations

import re

from swepipe.execute import log_parsers

_DJANGO_ID = re.compile(r"^(?P<name>\w+) \((?P<where>[\w.]+)\)$")


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


def status_map(log: str, parser: str) -> dict[str, str]:
    """`{test id: harness status}` of a local run's output read by the harness's `parser`; for
    Django each id is also keyed in its canonical form (the dataset's, from Python < 3.11)."""
    found = log_parsers.parse(parser, log)
    if parser == "django":  # runtests.py output (`local_parser` picks "django" just for it)
        for test_id, status in list(found.items()):
            found.setdefault(canonical_django_id(test_id), status)
    return found
