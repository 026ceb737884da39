import csv
import gzip
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from swepipe.datasets.ingest import ingest_file, load_instances
from swepipe.errors import InputError

from tests.store.helpers import GOLD


def row(i: int, **over) -> dict:
    base = {"instance_id": f"o__r-{i}", "repo": "o/r", "base_commit": "c0ffee",
            "problem_statement": f"bug {i}", "hints_text": "", "patch": GOLD,
            "test_patch": "", "FAIL_TO_PASS": json.dumps(["t.py::test_a"]),
            "PASS_TO_PASS": "[]", "version": "1.0", "created_at": "2024-01-01"}
    return {**base, **over}


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def count(store, table):
    return store.query(f"SELECT count(*) AS n FROM {table}").to_pylist()[0]["n"]


def test_real_lite_rows_ingest_with_gold_files_and_tests(store, lite_path):
    report = ingest_file(store, lite_path, "lite")
    assert (report.rows, report.new) == (300, 300)
    # every Lite gold patch touches exactly one file
    assert store.query("SELECT count(*) AS n, count(DISTINCT instance_id) AS ids FROM gold_files"
                       ).to_pylist() == [{"n": 300, "ids": 300}]
    (inst,) = load_instances(store, "lite", ["astropy__astropy-12907"])
    assert inst.fail_to_pass[0].startswith("astropy/modeling/tests/test_separable.py::")
    assert isinstance(inst.pass_to_pass, list) and len(inst.pass_to_pass) > 5


def test_verified_multi_file_and_new_file_patches_are_parsed(store, shared_data):
    ingest_file(store, shared_data / "swe-bench-verified" / "partial.jsonl", "verified")
    multi = store.query("SELECT count(*) AS n FROM (SELECT instance_id FROM gold_files "
                        "GROUP BY 1 HAVING count(*) > 1)").to_pylist()[0]["n"]
    assert multi == 71
    assert store.query("SELECT count(*) AS n FROM gold_files WHERE change_type = 'added'"
                       ).to_pylist()[0]["n"] == 1
    # Verified rows carry their Lite test fields under from_lite; they are lifted
    (inst,) = load_instances(store, "verified", ["astropy__astropy-12907"])
    assert inst.fail_to_pass and inst.test_patch


def test_reingest_same_rows_is_noop(store, tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", [row(1), row(2)])
    ingest_file(store, path)
    report = ingest_file(store, path)
    assert (report.new, report.unchanged, report.new_revisions) == (0, 2, 0)
    assert count(store, "instances") == 2 and count(store, "gold_hunks") == 2


def test_changed_row_becomes_a_new_revision_and_the_old_is_kept(store, tmp_path):
    ingest_file(store, write_jsonl(tmp_path / "d.jsonl", [row(1)]), "d")
    report = ingest_file(store, write_jsonl(tmp_path / "d.jsonl",
                                            [row(1, problem_statement="edited")]), "d")
    assert report.new_revisions == 1
    revs = store.query("SELECT revision, problem_statement FROM instances ORDER BY 1").to_pylist()
    assert revs == [{"revision": 1, "problem_statement": "bug 1"},
                    {"revision": 2, "problem_statement": "edited"}]
    assert load_instances(store, "d")[0].problem_statement == "edited"


@pytest.mark.parametrize("fmt", ["json", "csv", "parquet", "jsonl.gz"])
def test_every_format_gives_the_same_instances(store, tmp_path, fmt):
    rows = [row(1), row(2)]
    path = tmp_path / f"d.{fmt}"
    if fmt == "json":
        path.write_text(json.dumps(rows))
    elif fmt == "csv":
        with path.open("w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    elif fmt == "parquet":
        pq.write_table(pa.Table.from_pylist(rows), path)
    else:
        path.write_bytes(gzip.compress("".join(json.dumps(r) + "\n" for r in rows).encode()))
    ingest_file(store, path, "d")
    ingest_file(store, write_jsonl(tmp_path / "ref.jsonl", rows), "ref")
    got = store.query("SELECT dataset, list(revision) AS revs FROM dataset_instances "
                      "GROUP BY 1 ORDER BY 1").to_pylist()
    # identical content -> the second dataset points at the same revisions, nothing new stored
    assert got == [{"dataset": "d", "revs": [1, 1]}, {"dataset": "ref", "revs": [1, 1]}]
    assert count(store, "instances") == 2


@pytest.mark.parametrize("content, message", [
    (lambda: json.dumps(row(1)) + "\n" + json.dumps(row(2))[:40] + "\n",
     r"d.jsonl:2: invalid JSON .*truncated"),
    (lambda: json.dumps({k: v for k, v in row(1).items() if k != "repo"}) + "\n",
     r"d.jsonl:1: field required \(field 'repo'\)"),
    (lambda: json.dumps(row(1, base_commit=123)) + "\n",
     r"d.jsonl:1: .*string.*\(field 'base_commit'\)"),
    (lambda: json.dumps(row(1, FAIL_TO_PASS="[not json")) + "\n",
     r"d.jsonl:1: .*JSON list.*\(field 'FAIL_TO_PASS'\)"),
    (lambda: json.dumps(row(1)) + "\n" + json.dumps(row(1)) + "\n",
     r"d.jsonl:2: duplicate instance_id 'o__r-1' \(first at line 1\)"),
])
def test_bad_file_names_line_and_field_and_stores_nothing(store, tmp_path, content, message):
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps(row(9)) + "\n")
    ingest_file(store, path, "keep")
    path.write_text(content())
    with pytest.raises(InputError, match=message):
        ingest_file(store, path, "bad")
    assert count(store, "instances") == 1
    assert store.query("SELECT DISTINCT dataset FROM dataset_instances").to_pylist() == [
        {"dataset": "keep"}]


def test_non_utf8_file_names_the_line(store, tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_bytes(json.dumps(row(1)).encode() + b"\n" + b'{"instance_id": "\xff"}\n')
    with pytest.raises(InputError, match=r"d.jsonl:2: not UTF-8"):
        ingest_file(store, path)
    assert count(store, "instances") == 0


def test_unknown_format_is_refused(store, tmp_path):
    path = tmp_path / "d.xlsx"
    path.write_text("x")
    with pytest.raises(InputError, match=r"d.xlsx: unknown format '.xlsx'"):
        ingest_file(store, path)


def test_unparseable_gold_patch_is_a_bad_row(store, tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", [row(1, patch="diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n garbage")])
    with pytest.raises(InputError, match=r"d.jsonl:1: gold patch is not a parseable diff "
                                         r"\(.+\) \(field 'patch'\)$"):
        ingest_file(store, path)


def write_csv(path, rows):
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def assert_refused(store, path, message):
    """One line naming file, line and field; nothing stored."""
    with pytest.raises(InputError, match=message) as info:
        ingest_file(store, path)
    assert "\n" not in str(info.value) and str(info.value).startswith(str(path))
    assert count(store, "instances") == 0 and count(store, "dataset_instances") == 0


def test_csv_field_longer_than_the_csv_module_limit_ingests(store, tmp_path):
    long_text = "x" * 200_000  # the csv module's default limit is 131,072 characters
    path = write_csv(tmp_path / "d.csv", [row(1, problem_statement=long_text), row(2)])
    assert ingest_file(store, path).rows == 2
    assert len(load_instances(store, "d", ["o__r-1"])[0].problem_statement) == 200_000


def test_truncated_jsonl_gz_names_the_line_where_it_breaks(store, tmp_path):
    data = gzip.compress("".join(json.dumps(row(i)) + "\n" for i in range(1, 40)).encode())
    path = tmp_path / "d.jsonl.gz"
    path.write_bytes(data[:len(data) * 3 // 4])
    with pytest.raises(InputError, match=r"d.jsonl.gz:(\d+): truncated or corrupt gzip") as info:
        ingest_file(store, path)
    line = info.value.line
    assert 1 < line < 40 and "\n" not in str(info.value)
    assert count(store, "instances") == 0


def test_corrupt_gzip_is_an_input_error(store, tmp_path):
    path = tmp_path / "d.jsonl.gz"
    path.write_bytes(b"not gzip at all\n")
    assert_refused(store, path, r"d.jsonl.gz:1: truncated or corrupt gzip")


@pytest.mark.parametrize("char", ["\u2028", "\u2029", "\u0085"])
def test_json_line_separators_inside_strings_are_kept(store, tmp_path, char):
    path = tmp_path / "d.jsonl"
    rows = [row(1, problem_statement=f"first{char}second"), row(2)]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                    encoding="utf-8")
    assert ingest_file(store, path).rows == 2
    assert load_instances(store, "d", ["o__r-1"])[0].problem_statement == f"first{char}second"


@pytest.mark.parametrize("field, value", [
    ("instance_id", ""), ("instance_id", ".."), ("instance_id", "../../etc/x"),
    ("instance_id", "o/r-1"), ("instance_id", "-rf"), ("instance_id", "a b"),
    ("repo", ""), ("repo", "o"), ("repo", "../r"), ("repo", "o/.."), ("repo", "o/r/x"),
    ("repo", "/etc/passwd"), ("repo", "o\\r"),
])
def test_instance_id_and_repo_outside_their_shapes_are_refused(store, tmp_path, field, value):
    path = write_jsonl(tmp_path / "d.jsonl", [row(1), row(2, **{field: value})])
    assert_refused(store, path, rf"d.jsonl:2: .* is not .* \(field '{field}'\)$")


@pytest.mark.parametrize("instance_id, repo", [
    ("django__django-11099", "django/django"), ("scikit-learn__scikit-learn-10297",
                                                 "scikit-learn/scikit-learn"),
    ("pydata__xarray-4094", "pydata/xarray"), ("o__r.js-1", "o/.github"),
])
def test_swe_bench_shapes_are_accepted(store, tmp_path, instance_id, repo):
    path = write_jsonl(tmp_path / "d.jsonl", [row(1, instance_id=instance_id, repo=repo)])
    assert ingest_file(store, path).new == 1


def test_gold_patch_that_is_not_a_diff_is_refused(store, tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", [row(1), row(2, patch="Fixed the bug in f().\n")])
    assert_refused(store, path, r"d.jsonl:2: gold patch is not a diff .*\(field 'patch'\)$")


def test_empty_gold_patch_is_still_allowed(store, tmp_path):
    assert ingest_file(store, write_jsonl(tmp_path / "d.jsonl", [row(1, patch="")])).new == 1
    assert count(store, "gold_files") == 0


def test_csv_multi_line_row_is_named_by_the_line_it_starts_on(store, tmp_path):
    # row 1 spans lines 2-5 (four lines in its problem statement); row 2 starts on line 6
    path = write_csv(tmp_path / "d.csv", [row(1, problem_statement="a\nb\nc\nd"),
                                          row(2, repo="no-slash")])
    assert path.read_text().count("\n") > 6  # the gold patch spans lines too
    first_line_of_row_2 = next(i for i, text in enumerate(path.read_text().split("\n"), 1)
                               if text.startswith("o__r-2,"))
    assert_refused(store, path, rf"d.csv:{first_line_of_row_2}: .*\(field 'repo'\)$")


def test_csv_row_with_a_wrong_field_count_is_refused(store, tmp_path):
    path = write_csv(tmp_path / "d.csv", [row(1)])
    path.write_text(path.read_text() + "\n" + "o__r-2,o/r\n")
    assert_refused(store, path, r"d.csv:\d+: row has 2 fields, the header has \d+$")


def test_gold_hunks_give_changed_lines_and_insertion_points(store, tmp_path):
    ingest_file(store, write_jsonl(tmp_path / "d.jsonl", [row(1)]))
    hunk = store.query("SELECT path, removed_lines, added_after FROM gold_hunks").to_pylist()
    assert hunk == [{"path": "pkg/mod.py", "removed_lines": [2], "added_after": [2]}]


def api_instances(*over: dict) -> list:
    from swepipe.datasets.ingest import SweBenchRow

    return [SweBenchRow.model_validate(row(i, **o)).to_instance() for i, o in enumerate(over, 1)]


@pytest.mark.parametrize("over, message", [
    ({"instance_id": "../../etc/x"}, r"^api:2: '\.\./\.\./etc/x' is not an instance id.* "
                                     r"\(field 'instance_id'\)$"),
    ({"repo": "o/.."}, r"^api:2: 'o/\.\.' is not owner/name .*\(field 'repo'\)$"),
    ({"instance_id": "o__r-1"}, r"^api:2: duplicate instance_id 'o__r-1' \(first at line 1\)"),
    ({"patch": "Fixed the bug in f().\n"}, r"^api:2: gold patch is not a diff .*\(field 'patch'\)$"),
])
def test_the_python_api_applies_the_checks_of_file_ingest(store, over, message):
    from swepipe.datasets.ingest import ingest_instances

    with pytest.raises(InputError, match=message):
        ingest_instances(store, api_instances({}, over), "d", "api")
    assert count(store, "instances") == 0 and count(store, "dataset_instances") == 0
    assert ingest_instances(store, api_instances({}, {}), "d", "api").new == 2


def test_require_dataset_passes_a_held_dataset_and_names_the_held_ones_otherwise(store, tmp_path):
    from swepipe.datasets.ingest import require_dataset

    ingest_file(store, write_jsonl(tmp_path / "d.jsonl", [row(1)]), "lite")
    ingest_file(store, write_jsonl(tmp_path / "e.jsonl", [row(2)]), "mini")
    require_dataset(store, "lite")
    require_dataset(store, "mini")
    with pytest.raises(InputError) as err:
        require_dataset(store, "verified", field="--dataset", hint="ingest it first")
    assert str(err.value) == ("unknown dataset 'verified' (known: lite, mini); ingest it first "
                              "(field '--dataset')")
    # the names already read, for a caller that must not open the store to ask
    with pytest.raises(InputError, match=r"^unknown dataset 'lite' \(known: none\) "
                                         r"\(field 'dataset'\)$"):
        require_dataset([], "lite")
