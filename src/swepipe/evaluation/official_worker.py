"""Run by `swepipe.evaluation.official` as `python official_worker.py DIR` (DIR holds `swebench`):
grades logs with the official `get_eval_report`. Reads JSON lines `{key, repo, instance_id,
version, log, FAIL_TO_PASS, PASS_TO_PASS}` on stdin, writes `{key, resolved}` lines.

Only the grading modules are imported: the package's `__init__` files import docker, modal and
the Hugging Face stack, so `swebench` and `swebench.harness` are entered as bare namespaces.
"""

import importlib.util
import json
import os
import sys
import tempfile
import types


def _bare_packages() -> None:
    spec = importlib.util.find_spec("swebench")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("swebench is not on the path")
    root = list(spec.submodule_search_locations)[0]
    for name, sub in (("swebench", ""), ("swebench.harness", "harness")):
        module = types.ModuleType(name)
        module.__path__ = [os.path.join(root, sub) if sub else root]
        sys.modules[name] = module


def main() -> None:
    sys.path.insert(0, sys.argv[1])  # the directory `pip install --target` filled
    _bare_packages()
    from swebench.harness.grading import get_eval_report
    from swebench.harness.log_parsers.python import MAP_REPO_TO_PARSER_PY
    from swebench.types import TestSpec

    with tempfile.TemporaryDirectory() as tmp:
        log_path = os.path.join(tmp, "test_output.txt")
        for line in sys.stdin:
            item = json.loads(line)
            with open(log_path, "w") as fh:
                fh.write(item["log"])
            parser = MAP_REPO_TO_PARSER_PY[item["repo"]].__name__
            spec = TestSpec(instance_id=item["instance_id"], image="", eval_script_list=[],
                            repo=item["repo"], version=item["version"] or "",
                            FAIL_TO_PASS=item["FAIL_TO_PASS"], PASS_TO_PASS=item["PASS_TO_PASS"],
                            log_parser=parser, eval_type="pass_and_fail")
            prediction = {"instance_id": item["instance_id"], "model_patch": "x",
                          "model_name_or_path": "swepipe-parity"}
            report = get_eval_report(spec, prediction, log_path, include_tests_status=False)
            print(json.dumps({"key": item["key"],
                              "resolved": report[item["instance_id"]]["resolved"]}), flush=True)


if __name__ == "__main__":
    main()
