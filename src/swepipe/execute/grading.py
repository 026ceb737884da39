"""Grade SWE-bench test output the way the official harness does: a status map, then a verdict.

`read_test_output(text, parser)` is the harness's `get_logs_eval`: a log holding one of the
failure markers (`>>>>> Patch Apply Failed`, `Reset Failed`, `Tests Errored`, `Tests Timed Out`)
or lacking the `>>>>> Start/End Test Output` markers has no results; otherwise the text between
the markers is parsed (the whole log when that finds nothing); a log that parses to nothing and
shows no sign of a test run has no results either; and a recorded non-zero test exit code with no
failure in the map means the log does not describe the run (a patch printing its own `PASSED`).

`grade(status_map, fail_to_pass, pass_to_pass)` applies the status rules:

- a FAIL_TO_PASS test succeeds when PASSED or XFAIL, fails when FAILED, ERROR, SKIPPED or absent;
- a PASS_TO_PASS test succeeds when PASSED, XFAIL or SKIPPED (a skip is not a regression), fails
  when FAILED, ERROR or absent;
- an id cut inside its parametrization (more `[` than `]`, as the dataset holds some) matches the
  reported ids it prefixes when they all agree on pass or fail;
- resolved = no test of either list fails (an empty list counts as all succeeded).

Each test gets a swepipe status for `test_runs`: `passed` (PASSED, XFAIL), `skipped`, `failed`,
`error`, `missing` (absent). Under the rules above `resolved` in SQL is: every fail_to_pass row
`passed` and every pass_to_pass row `passed` or `skipped` (docs/metrics.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from swepipe.execute import log_parsers
from swepipe.execute.test_specs import END_TEST_OUTPUT, START_TEST_OUTPUT, TEST_EXIT_CODE

FAILURE_MARKERS = (">>>>> Patch Apply Failed", ">>>>> Reset Failed", ">>>>> Tests Errored",
                   ">>>>> Tests Timed Out")
# The harness's evidence that a runner ran when nothing parsed (its patterns are for JS runners;
# kept whole so an empty map is judged the same way).
_SUITE_RAN = re.compile(
    r"Executed [1-9]\d* of \d+|TOTAL: [1-9]\d* (?:SUCCESS|FAILED)|[1-9]\d* passing"
    r"|Tests:\s+[1-9]\d*|Test Suites:\s+(?:\d+ \w+, )*[1-9]\d* total|^# tests [1-9]\d*"
    r"|[1-9]\d* specs?, \d+ failures?|': ok$", re.M)
_EXIT_CODE = re.compile(rf"{re.escape(TEST_EXIT_CODE)}:\s*(-?\d+)")

_PASSING = {"PASSED", "XFAIL"}
_SWEPIPE_STATUS = {"PASSED": "passed", "XFAIL": "passed", "SKIPPED": "skipped",
                   "FAILED": "failed", "ERROR": "error"}


@dataclass
class TestOutput:
    """What a log says ran: `status_map` is None when it has no usable results (`reason`)."""

    __test__ = False

    status_map: dict[str, str] | None
    reason: str | None = None


def read_test_output(text: str, parser: str) -> TestOutput:
    """The status map of a harness log (`test_output.txt`); see the module docstring."""
    bad = [m for m in FAILURE_MARKERS if m in text]
    if bad:
        return TestOutput(None, bad[0].removeprefix(">>>>> "))
    if START_TEST_OUTPUT not in text or END_TEST_OUTPUT not in text:
        return TestOutput(None, "no test output markers (the test patch did not apply?)")
    inside = text.split(START_TEST_OUTPUT)[1].split(END_TEST_OUTPUT)[0]
    found = log_parsers.parse(parser, inside) or log_parsers.parse(parser, text)
    if not found and not _SUITE_RAN.search(text):
        return TestOutput(None, "no test results in the output")
    m = _EXIT_CODE.search(text)
    code = int(m.group(1)) if m else None
    if code not in (None, 0) and found and not any(
            s in ("FAILED", "ERROR") for s in found.values()):
        return TestOutput(None, f"tests exited {code} but the output reports no failure")
    return TestOutput(found)


def _resolve(test_id: str, found: dict[str, str]) -> str | None:
    """The reported key for `test_id`, allowing an id truncated inside `[...]`."""
    if test_id in found:
        return test_id
    if test_id.count("[") > test_id.count("]"):
        keys = [k for k in found if k.startswith(test_id)]
        if keys and len({found[k] in _PASSING for k in keys}) == 1:
            return keys[0]
    return None


@dataclass
class Grade:
    """Per-test outcomes of FAIL_TO_PASS and PASS_TO_PASS and the verdict."""

    outcomes: list[tuple[str, str, str]] = field(default_factory=list)
    """(kind `fail_to_pass` | `pass_to_pass`, test id as in the dataset, swepipe status)."""
    failing: list[str] = field(default_factory=list)
    """The ids that made it unresolved, in order."""

    @property
    def resolved(self) -> bool:
        return not self.failing


def grade(found: dict[str, str], fail_to_pass: list[str], pass_to_pass: list[str]) -> Grade:
    """Grade a status map against the instance's test lists (see the module docstring)."""
    out = Grade()
    for kind, ids in (("fail_to_pass", fail_to_pass), ("pass_to_pass", pass_to_pass)):
        success = _PASSING | ({"SKIPPED"} if kind == "pass_to_pass" else set())
        failure = {"FAILED", "ERROR"} | ({"SKIPPED"} if kind == "fail_to_pass" else set())
        for test_id in ids:
            key = _resolve(test_id, found)
            raw = found[key] if key is not None else None
            if raw is None or raw in failure:
                out.failing.append(test_id)
            elif raw not in success:
                continue  # a word the harness neither passes nor fails: it does not count
            out.outcomes.append((kind, test_id, "missing" if raw is None
                                 else _SWEPIPE_STATUS[raw]))
    return out


def grade_test_output(text: str, parser: str, fail_to_pass: list[str],
                      pass_to_pass: list[str]) -> tuple[Grade | None, str | None]:
    """(grade, None) for a log with results, else (None, why not); the harness then reports
    the instance as not resolved."""
    output = read_test_output(text, parser)
    if output.status_map is None:
        return None, output.reason
    return grade(output.status_map, fail_to_pass, pass_to_pass), None
