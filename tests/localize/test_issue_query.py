"""The issue as a query: template comments and environment dumps go, the rest stays."""

import json
from pathlib import Path

import pytest

from swepipe.localize.issue_query import issue_query, strip_comments, strip_version_lines

DEV = Path(__file__).resolve().parents[2] / "../shared/data/repos-verified-dev/instances.jsonl"


def test_template_comments_go_and_the_text_around_them_stays():
    text = "Title\n<!-- Please describe\nthe bug -->\nThe bug: `where` drops attrs <!-- x -->."
    assert strip_comments(text) == "Title\n \nThe bug: `where` drops attrs  ."
    assert issue_query(text, comments=False, versions=False) == text


def test_environment_dump_lines_go_but_code_prose_and_tracebacks_stay():
    dump = ("INSTALLED VERSIONS\n------------------\ncommit: None\npython: 3.8.2 | packaged by "
            "conda-forge | (default, Apr 24 2020)\nLC_ALL: None\nnumpy: 1.18.4\n"
            "setuptools==46.2.0\n- matplotlib 3.2.1\nPython 3.8\n")
    kept = ('Traceback (most recent call last):\n  File "x/core.py", line 12, in where\n'
            "    return None\nx = 1\nresult = xr.where(da == 0, -1, da)\n"
            "I tested with numpy 1.18 and it fails.\n")
    out = strip_version_lines(dump + kept)
    assert out.endswith(kept)
    assert out.split("\n")[:2] == ["INSTALLED VERSIONS", "------------------"]
    assert "numpy: 1.18.4" not in out and "setuptools" not in out and "conda-forge" not in out


@pytest.mark.skipif(not DEV.exists(), reason="needs ../shared/data (the development set)")
def test_a_real_show_versions_dump_is_removed_and_the_example_kept():
    rows = {r["instance_id"]: r for r in map(json.loads, DEV.read_text().splitlines())}
    text = rows["pydata__xarray-4687"]["problem_statement"]
    out = issue_query(text)
    for gone in ("pandas: 1.0.4", "netCDF4: None", "Paste the output here",
                 "Minimal, Complete and Verifiable"):
        assert gone in text and gone not in out
    for kept in ("xr.where(da==0, -1, da).attrs", "xarray.where() drops attributes",
                 "I would expect the attributes to remain in the data array."):
        assert kept in out
    assert len(out) < len(text) / 2
