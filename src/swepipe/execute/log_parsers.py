"""Test-runner output -> `{test id: status}`, read exactly as the official SWE-bench harness does.

Statuses are the harness's raw words (`PASSED`, `FAILED`, `SKIPPED`, `ERROR`, `XFAIL`);
`swepipe.execute.grading` turns them into a verdict. Parity with the `swebench` package's
`harness/log_parsers/python.py` (5.0.2) is the contract, quirks included, because the dataset's
FAIL_TO_PASS / PASS_TO_PASS ids were produced by these parsers:

- pytest ids are the second whitespace-separated word of a `-rA` summary line, so a parametrized
  id whose parameter holds a space is cut there (`test_x[a` for `test_x[a b]`); the dataset
  holds the cut ids. `pytest_v2` (astropy, scikit-learn, sphinx) keeps the whole rest of the
  line instead, strips ANSI colour codes, and also reads verbose `id STATUS` lines;
- `pytest_options` (requests, pylint, pydicom) shortens a path parameter to its last component;
- `matplotlib` spells `MouseButton.LEFT/RIGHT` as `1/3`;
- `SKIPPED [N] file:line: reason` summaries name no test and are ignored;
- Django's runner (`test_x (app.tests.C) ... ok`, failures' `FAIL: ...` headers, results pushed to
  the next line by output in between); sympy's `bin/test` (`test_x ok|F|E`, tracebacks' headers
  `___ path.py:test_x ___` mark failures).
"""

from __future__ import annotations

import re
from collections.abc import Callable

STATUSES = ("FAILED", "PASSED", "SKIPPED", "ERROR", "XFAIL")
_SKIP_COUNT = re.compile(r"^\[\d+\]$")
_ANSI = re.compile(r"\[(\d+)m")
_CONTROL = str.maketrans("", "", "".join(chr(c) for c in range(1, 32)))
_OPTION = re.compile(r"(.*?)\[(.*)\]")

StatusMap = dict[str, str]


def _status_word(line: str) -> bool:
    return line.startswith(STATUSES)


def _summary_words(line: str) -> list[str] | None:
    """The words of a `-rA` summary line, or None when it names no test."""
    if not _status_word(line):
        return None
    if line.startswith("FAILED"):
        line = line.replace(" - ", " ")  # `FAILED id - message`: the message is not the id
    words = line.split()
    if len(words) <= 1 or (words[0] == "SKIPPED" and _SKIP_COUNT.match(words[1])):
        return None
    return words


def parse_pytest(log: str) -> StatusMap:
    found: StatusMap = {}
    for line in log.split("\n"):
        if words := _summary_words(line):
            found[words[1]] = words[0]
    return found


def parse_pytest_options(log: str) -> StatusMap:
    found: StatusMap = {}
    for line in log.split("\n"):
        if not (words := _summary_words(line)):
            continue
        name = words[1]
        if m := _OPTION.search(name):
            main, option = m.groups()
            if option.startswith("/") and not option.startswith("//") and "*" not in option:
                option = "/" + option.split("/")[-1]  # absolute paths differ between machines
            name = f"{main}[{option}]"
        found[name] = words[0]
    return found


def parse_matplotlib(log: str) -> StatusMap:
    return parse_pytest(log.replace("MouseButton.LEFT", "1").replace("MouseButton.RIGHT", "3"))


def parse_pytest_v2(log: str) -> StatusMap:
    found: StatusMap = {}
    for raw in log.split("\n"):
        line = _ANSI.sub("", raw).translate(_CONTROL)
        if _status_word(line):
            if line.startswith("FAILED"):
                line = line.split(" - ", 1)[0]
            words = line.split()
            if len(words) >= 2 and not (words[0] == "SKIPPED" and _SKIP_COUNT.match(words[1])):
                found[" ".join(words[1:])] = words[0]
        elif line.endswith(STATUSES):  # older pytest: `id STATUS`
            words = line.split()
            if len(words) >= 2:
                found[" ".join(words[:-1])] = words[-1]
    return found


def parse_seaborn(log: str) -> StatusMap:
    found: StatusMap = {}
    for line in log.split("\n"):
        words = line.split()
        if len(words) < 2:
            continue
        if line.startswith("FAILED"):
            found[words[1]] = "FAILED"
        elif " PASSED " in line:
            if words[1] == "PASSED":
                found[words[0]] = "PASSED"
        elif line.startswith("PASSED"):
            found[words[1]] = "PASSED"
    return found


_SYMPY_FAILURE_HEADER = re.compile(r"(_*) (.*)\.py:(.*) (_*)")
_SYMPY_SUFFIX = {" E": "ERROR", " F": "FAILED", " ok": "PASSED"}


def parse_sympy(log: str) -> StatusMap:
    found: StatusMap = {f"{m[1]}.py:{m[2]}": "FAILED"
                        for m in _SYMPY_FAILURE_HEADER.findall(log)}
    for raw in log.split("\n"):
        line = raw.strip()
        if not line.startswith("test_"):
            continue
        for suffix, status in _SYMPY_SUFFIX.items():
            if line.endswith(suffix):
                found[line.split()[0]] = status
    return found


_DJANGO_PASS = (" ... ok", " ... OK", " ...  OK")
# Output printed between `test ... ` and its `ok` (the Django runner's known interleavings).
_DJANGO_INTERRUPTED = (
    re.compile(r"^(.*?)\s\.\.\.\sTesting\ against\ Django\ installed\ in\ ((?s:.*?))\ silenced\)"
               r"\.\nok$", re.MULTILINE),
    re.compile(r"^(.*?)\s\.\.\.\sInternal\ Server\ Error:\ \/(.*)\/\nok$", re.MULTILINE),
    re.compile(r"^(.*?)\s\.\.\.\sSystem check identified no issues \(0 silenced\)\nok$",
               re.MULTILINE),
)


def parse_django(log: str) -> StatusMap:
    found: StatusMap = {}
    previous: str | None = None  # the last `name ... ` seen: a lone `ok` line belongs to it
    for raw in log.split("\n"):
        line = raw.strip()
        if "--version is equivalent to version" in line:  # a test whose name spans lines
            found["--version is equivalent to version"] = "PASSED"
        if " ... " in line:
            previous = line.split(" ... ")[0]
        for suffix in _DJANGO_PASS:
            if line.endswith(suffix):
                if line.startswith("Applying sites.0002_alter_domain_unique...test_no_migrations"):
                    line = line.split("...", 1)[-1].strip()  # django__django-7188's output
                found[line.rsplit(suffix, 1)[0]] = "PASSED"
                break
        if " ... skipped" in line:
            found[line.split(" ... skipped")[0]] = "SKIPPED"
        if line.endswith(" ... FAIL"):
            found[line.split(" ... FAIL")[0]] = "FAILED"
        if line.startswith("FAIL:") and len(line.split()) > 1:
            found[line.split()[1].strip()] = "FAILED"
        if line.endswith(" ... ERROR"):
            found[line.split(" ... ERROR")[0]] = "ERROR"
        if line.startswith("ERROR:") and len(line.split()) > 1:
            found[line.split()[1].strip()] = "ERROR"
        if line.lstrip().startswith("ok") and previous is not None:
            found[previous] = "PASSED"
    for pattern in _DJANGO_INTERRUPTED:
        for m in pattern.finditer(log):
            found[m.group(1)] = "PASSED"
    return found


PARSERS: dict[str, Callable[[str], StatusMap]] = {
    "pytest": parse_pytest, "pytest_options": parse_pytest_options,
    "pytest_v2": parse_pytest_v2, "matplotlib": parse_matplotlib, "seaborn": parse_seaborn,
    "sympy": parse_sympy, "django": parse_django,
}
PYTEST_PARSERS = ("pytest", "pytest_options", "pytest_v2", "matplotlib", "seaborn")
"""The parsers of `PARSERS` that read `pytest -rA` output."""


def parse(parser: str, log: str) -> StatusMap:
    """`{test id: raw status}` from `log` with the named parser."""
    return PARSERS[parser](log)
