"""The CodeMonkeys machine's state: what it holds, how replies are parsed, where it is saved.

`MachineState` follows CodeMonkeys' `EditingStateData` (legacy-formats.md): `messages`,
`state_history`, `attempt_history` (`EMITTED_TEST`, `EMITTED_EDIT`, `EMITTED_DONE`, `MISPARSE`,
plus `EDIT_FAILED` for an edit that did not apply), `test_files`, `original_codebase_outputs`,
`search_replaces`, `patches`, `edited_codebase_outputs`. Two additions make it resumable:
`pending` (the step to run next) and `key` (what the state belongs to: config, instance,
context, model), so a state written for another config is never resumed.

`StateFile` writes the state as JSON after every step (to a temporary file, then an atomic rename:
a kill mid-write leaves the previous step's state). A model reply is saved in the same write that
acts on it, so a resumed machine never asks for a reply it already has; a kill between a reply's
arrival and that write is covered by the call cache, which answers the repeated request.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from swepipe.generate.prompting import first_code_block
from swepipe.types import ExecutionOutput, Message, Patch

STATE_VERSION = 1
Step = Literal["ask", "run_test", "run_edit", "done"]
ActionKind = Literal["test", "edit", "done", "misparse"]

_TAGS = {kind: re.compile(rf"<{kind}>(?P<body>.*?)(?:</{kind}>|\Z)", re.DOTALL)
         for kind in ("test", "edit")}
_DONE = re.compile(r"<done\s*/?>")
_SEARCH = re.compile(r"^\s*<{5,9} ?SEARCH\s*$", re.MULTILINE)


class MachineState(BaseModel):
    version: int = STATE_VERSION
    key: str
    """Hash of (config identity, instance revision, context, model): which run this state is."""
    sample_index: int
    trajectory_id: str
    """The id every call of this machine is logged under (kept across resumes)."""
    pending: Step = "ask"
    """The next step to run."""
    finish_reason: str | None = None
    """`done` (the model finished) or `max_attempts`."""
    state_history: list[str] = Field(default_factory=list)
    messages: list[Message] = Field(default_factory=list)
    state_counter: int = 0
    """Steps completed."""
    attempt_counter: int = 0
    """Model replies received."""
    attempt_history: list[str] = Field(default_factory=list)
    test_files: list[str] = Field(default_factory=list)
    """Every test script the model wrote, in order; the last one is current."""
    original_codebase_outputs: list[ExecutionOutput] = Field(default_factory=list)
    """Per test script, its output on the original code."""
    search_replaces: list[str] = Field(default_factory=list)
    """Every edit reply's SEARCH/REPLACE text, in order (applied or not)."""
    edits: list[Patch] = Field(default_factory=list)
    """Per edit reply, the Patch it became (status and reason for those that failed)."""
    patches: list[str] = Field(default_factory=list)
    """Diffs of the edits that applied; the last one is the candidate."""
    edited_codebase_outputs: list[ExecutionOutput] = Field(default_factory=list)
    """Output of the current test on the code as each run edit left it."""

    @property
    def test(self) -> str | None:
        return self.test_files[-1] if self.test_files else None

    @property
    def patch(self) -> Patch | None:
        """The last edit that applied."""
        return next((p for p in reversed(self.edits) if p.status == "ok"), None)


@dataclass(frozen=True)
class Action:
    kind: ActionKind
    body: str = ""
    """The test script, or the SEARCH/REPLACE text."""
    reason: str | None = None
    """Why a reply is a misparse."""


def parse_action(text: str) -> Action:
    """The one action in a reply (see `prompts/codemonkeys_system.txt`).

    Tags decide; without tags, SEARCH/REPLACE markers mean an edit and a lone python block a
    test (models often drop the tags). Two different actions in one reply are a misparse:
    guessing which one was meant would hide a format problem in the trajectories."""
    text = text or ""
    found: list[Action] = []
    if m := _TAGS["test"].search(text):
        script = first_code_block(m["body"]) or m["body"].strip()
        found.append(Action("test", script) if script else
                     Action("misparse", reason="the <test> block is empty"))
    if m := _TAGS["edit"].search(text):
        found.append(Action("edit", m["body"]))
    if _DONE.search(text):
        found.append(Action("done"))
    if not found:
        if _SEARCH.search(text):
            found.append(Action("edit", text))
        elif (script := first_code_block(text)) is not None:
            found.append(Action("test", script))
    kinds = {a.kind for a in found}
    if len(kinds) > 1:
        return Action("misparse", reason="the reply holds more than one action "
                                         f"({', '.join(sorted(kinds))}); send exactly one")
    if not found:
        return Action("misparse", reason="no <test>, <edit> or <done> action found")
    return found[0]


class StateFile:
    """One machine's JSON state file."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        """None: state is kept in memory only (a resume then replays through the call cache)."""

    def load(self, key: str) -> MachineState | None:
        """The saved state when it belongs to `key` and this code's format, else None."""
        if self.path is None or not self.path.is_file():
            return None
        try:
            state = MachineState.model_validate_json(self.path.read_bytes())
        except ValueError:
            return None  # unreadable or an older format: start over (calls are cached)
        return state if state.key == key and state.version == STATE_VERSION else None

    def save(self, state: MachineState) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(state.model_dump(mode="json"), ensure_ascii=False),
                       encoding="utf-8")
        os.replace(tmp, self.path)
