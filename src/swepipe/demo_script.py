"""The scripted model's part in the demo: replies that play both presets on the mini-benchmark.

Each mini-benchmark repository ships `answers.json` (the file and function to point at, the right
edit, a plausible wrong edit, and a check of the fixed behaviour). From it this module writes
regex rules that answer every prompt the Agentless and CodeMonkeys components send: file lists,
locations, relevance verdicts, rankings, SEARCH/REPLACE repairs (some samples right, one wrong,
one unparseable, so voting and test-based selection have something to do), test scripts, and
selection choices. The model is scripted; the demo says so.
"""

from __future__ import annotations

import json
import re
from functools import partial

from swepipe.minibench import minibench_root
from swepipe.models.scripted_rules import Rule, Script


def _edit(answer: dict, replace: str) -> str:
    return (f"```python\n### {answer['file']}\n<<<<<<< SEARCH\n{answer['search']}=======\n"
            f"{replace}>>>>>>> REPLACE\n```")


def _rules(answer: dict) -> list[Rule]:
    m = re.escape(answer["marker"])
    file, function = answer["file"], answer["function"]
    located = f"```\n{file}\nfunction: {function}\n```"
    right, wrong = _edit(answer, answer["replace"]), _edit(answer, answer["wrong_replace"])
    check = answer["check"]
    test = f"<test>\n```python\nimport sys\n{check}sys.exit(0 if ok else 2)\n```\n</test>"
    reproduction = f"```python\n{check}print('Issue resolved' if ok else 'Issue reproduced')\n```"
    conv = "conversation"
    rule = partial(Rule, literal=True)  # replies hold code: sent as written, not as templates
    return [
        # Agentless localization: files, related elements, edit locations
        rule(pattern=f"(?s)list the files that one would need to edit.*{m}",
             reply=f"```\n{file}\n```"),
        rule(pattern=f"(?s){m}.*Skeleton of Relevant Files", reply=located),
        rule(pattern=f"(?s)name the locations that need to be edited.*{m}", reply=located),
        # Agentless repair: samples cycle right, right, wrong, unparseable
        rule(pattern=f"(?s){m}.*generate \\*SEARCH/REPLACE\\* edits",
             reply=[right, right, wrong, "I am not sure how to fix this."]),
        rule(pattern=f"(?s){m}.*generate a complete test that can be used to reproduce",
             reply=reproduction),
        # CodeMonkeys context: the gold file is relevant, ranked first
        rule(pattern=(f"(?s){m}.*Decide whether the following file"
                      f".*<file path=\"{re.escape(file)}\">"),
             reply=f"RELEVANCE: Relevant\nSUMMARY: `{function}` implements the behaviour the "
                   "issue describes and needs the fix."),
        rule(pattern=f"(?s){m}.*Rank these files", reply=f"```json\n[\"{file}\"]\n```"),
        # CodeMonkeys generation state machine, matched on the whole conversation (latest first)
        rule(pattern=f"(?s){m}.*Your edit produced this diff", on=conv, reply="<done>"),
        rule(pattern=f"(?s){m}.*Your test script was run on the original code", on=conv,
             reply=[f"<edit>\n{right}\n</edit>", f"<edit>\n{right}\n</edit>",
                    f"<edit>\n{wrong}\n</edit>"]),
        rule(pattern=f"(?s){m}.*First, write a test script", on=conv, reply=test),
        # selection: the selection state machine and the judge pick the top candidate
        rule(pattern=f"(?s){m}.*Exactly one will be submitted", on=conv,
             reply="Candidate 1 passes the generated tests. <choice>1</choice>"),
        rule(pattern=f"(?s){m}.*Which candidate resolves the issue", reply="<choice>1</choice>"),
    ]


def demo_script() -> Script:
    rules: list[Rule] = []
    for bench in sorted(p for p in minibench_root().iterdir() if p.is_dir()):
        rules += _rules(json.loads((bench / "answers.json").read_text()))
    rules.append(Rule(pattern="Decide whether the following file may need to be edited",
                      reply="RELEVANCE: Not Relevant"))
    return Script(default="I cannot help with that.", rules=rules)
