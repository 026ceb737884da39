"""The shared vocabulary: every value that crosses a stage boundary or enters the store.

Read this file and `protocols.py` to learn the whole system. These are plain pydantic models;
behaviour lives in the modules of the concept it belongs to (`patch/`, `store/`, `models/`).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from swepipe.stages import STAGES, StageName  # noqa: F401 - re-exported: the shared vocabulary


class Instance(BaseModel):
    """One SWE-bench task: a repository at a commit, an issue, and its gold patch and tests."""

    model_config = ConfigDict(frozen=True)

    instance_id: str
    """Globally unique id, e.g. `django__django-11099`."""
    repo: str
    """`owner/name` on GitHub."""
    base_commit: str
    """The commit the issue is solved against."""
    problem_statement: str
    """The issue text the model sees."""
    hints_text: str = ""
    """Comments made before the fix; Agentless and CodeMonkeys do not show them."""
    patch: str = ""
    """The gold patch (a git-style unified diff); empty when unknown."""
    test_patch: str = ""
    """The gold tests added with the fix."""
    fail_to_pass: list[str] = Field(default_factory=list)
    """Tests that fail before the gold patch and pass after it."""
    pass_to_pass: list[str] = Field(default_factory=list)
    """Tests that pass before and after (regression guard)."""
    repo_version: str | None = None
    """SWE-bench's `version` field (the environment version)."""
    environment_setup_commit: str | None = None
    created_at: str | None = None
    difficulty: str | None = None
    """SWE-bench Verified's difficulty bucket."""
    extra: dict[str, Any] = Field(default_factory=dict)
    """Any other columns of the source row, kept as they came."""

    TASK_FIELDS: ClassVar[tuple[str, ...]] = (
        "repo", "base_commit", "problem_statement", "hints_text", "patch", "test_patch",
        "fail_to_pass", "pass_to_pass", "repo_version", "environment_setup_commit",
    )

    def content_hash(self) -> str:
        """Hash of the fields that define the task; a changed value makes a new revision."""
        body = {k: getattr(self, k) for k in self.TASK_FIELDS}
        body["instance_id"] = self.instance_id
        text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()


PointerKind = Literal["file", "class", "function", "variable", "lines"]


class CodePointer(BaseModel):
    """A place in the repository a localizer points at.

    Lines are 1-based and inclusive; `start_line is None` means the whole file.
    """

    file_path: str
    """Repository-relative path with forward slashes."""
    start_line: int | None = None
    end_line: int | None = None
    kind: PointerKind = "file"
    symbol: str | None = None
    """`Cls.meth`, `func`, `VAR` for symbol pointers; None for files and plain lines."""
    rank: int = 0
    """0 is the most relevant."""
    score: float | None = None
    sample_idx: int = 0
    """Which localization sample this pointer belongs to (Agentless samples edit locations)."""
    resolved: bool = True
    """False when a symbol could not be mapped to lines (e.g. migrated without a checkout)."""
    tokens: int | None = None
    """Size of the pointed-at text in tokens, when the localizer measured it."""


PatchStatus = Literal["ok", "empty", "unparseable", "apply_failed", "error"]


class Patch(BaseModel):
    """A candidate fix: a git-style unified diff plus what we know about it."""

    diff: str
    """The unified diff; "" when the model produced no usable edit."""
    sample_idx: int = 0
    status: PatchStatus = "ok"
    reason: str | None = None
    """Why the status is not `ok` (which SEARCH block failed, why parsing failed, ...)."""
    normalized_diff: str | None = None
    """The form used for voting: semantics-preserving noise removed."""
    files: list[str] = Field(default_factory=list)
    """Files the diff touches (source paths; target path for new files)."""
    test: str | None = None
    """A test script generated with this candidate (CodeMonkeys), if any."""
    trajectory_id: str | None = None
    """The model conversation that produced it (`sequences.trajectory_id`)."""
    meta: dict[str, Any] = Field(default_factory=dict)

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.diff.encode()).hexdigest()


def patch_hash(patch: Patch | str) -> str:
    """The key of a candidate's rows in `test_runs` (`patch_hash`; `run_hash` in the views): its
    content hash, '' for the empty diff "" (the original code, which is what "" runs).

    Empty means "", the rule of the store's SQL (`current_patches`, `resolved.sql`), so Python
    and SQL key every diff alike; a blank diff such as "\n" is keyed by its content."""
    diff = patch.diff if isinstance(patch, Patch) else patch
    return hashlib.sha256(diff.encode()).hexdigest() if diff else ""


class Selection(BaseModel):
    """The selector's verdict for one instance."""

    chosen_sample_idx: int | None
    """The `sample_idx` of the chosen patch; None when there was nothing to choose."""
    patch: str
    """The chosen diff ("" when none)."""
    method: str
    """e.g. `majority_vote`, `test_vote`, `llm_judge`, `random`."""
    scores: dict[int, float] = Field(default_factory=dict)
    """Votes or scores per candidate sample_idx."""
    rationale: str = ""


class Message(BaseModel):
    """One chat message in the OpenAI format."""

    role: Literal["system", "user", "assistant", "tool"]
    content: str


class SamplingParams(BaseModel):
    """Sampling parameters; they are part of a config's identity."""

    temperature: float = 0.0
    top_p: float = 1.0
    max_tokens: int | None = None
    stop: list[str] | None = None
    seed: int | None = None
    n: int = 1


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0


class Choice(BaseModel):
    text: str
    finish_reason: str | None = None
    token_ids: list[int] | None = None
    """Completion token ids, when the server returns them (vLLM can); RL trainers need them."""
    logprobs: list[float] | None = None


class Completion(BaseModel):
    """What a `Model` call returns."""

    model: str
    choices: list[Choice]
    usage: Usage = Field(default_factory=Usage)
    latency_s: float = 0.0
    from_cache: bool = False
    sequence_id: str | None = None
    """The `sequences` row that records this call."""

    @property
    def text(self) -> str:
        return self.choices[0].text if self.choices else ""


class ExecutionOutput(BaseModel):
    """The result of running a command in the sandbox (CodeMonkeys' ExecutionOutput, plus time)."""

    stdout: str | None = None
    stderr: str | None = None
    exit_code: int
    timed_out: bool = False
    duration_s: float = 0.0


class TestOutcome(BaseModel):
    """One test's result on one candidate."""

    test_id: str
    status: Literal["passed", "failed", "error", "skipped", "timeout", "missing"]
    duration_s: float | None = None
