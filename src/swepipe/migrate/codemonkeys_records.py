"""The pydantic models CodeMonkeys dumps into its trajectory store (docs/legacy-formats.md).

Unknown keys are allowed (forks add fields); a documented field with the wrong type refuses the
file, naming the field.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

_LENIENT = ConfigDict(extra="allow")


class ExecutionOutput(BaseModel):
    """A test script run. Exit 2 = issue not fixed, 0 = fixed, 1 = crash."""

    model_config = _LENIENT

    stdout: str | None = None
    exit_code: int
    timed_out: bool = False

    @property
    def status(self) -> str:
        if self.timed_out:
            return "timeout"
        return {0: "passed", 2: "failed"}.get(self.exit_code, "error")


class RelevanceDecision(BaseModel):
    model_config = _LENIENT

    message: str
    status: Literal["relevant", "not_relevant", "parse_error"]
    summary: str | None = None


class ModelRanking(BaseModel):
    model_config = _LENIENT

    message: str = ""
    ranking: list[str] = Field(default_factory=list)


class RankedFile(BaseModel):
    model_config = _LENIENT

    tokens: int
    path: str


class ProblemContext(BaseModel):
    model_config = _LENIENT

    model_rankings: list[ModelRanking] = Field(default_factory=list)
    ranked_files: list[RankedFile] = Field(default_factory=list)
    prompt_caching_usages: list[dict[str, Any]] = Field(default_factory=list)


class ChatMessage(BaseModel):
    model_config = _LENIENT

    role: str
    content: str

    @field_validator("content", mode="before")
    @classmethod
    def _blocks_to_text(cls, value: Any) -> Any:
        # Anthropic messages may hold a list of content blocks
        if isinstance(value, list):
            return "".join(b.get("text", "") if isinstance(b, dict) else str(b) for b in value)
        return value


class StateData(BaseModel):
    model_config = _LENIENT

    state: str | None = None
    sample_index: int | None = None
    state_history: list[str] = Field(default_factory=list)
    messages: list[ChatMessage] = Field(default_factory=list)
    prompt_caching_usages: list[dict[str, Any]] = Field(default_factory=list)
    state_counter: int | None = None
    attempt_counter: int | None = None
    attempt_history: list[str] = Field(default_factory=list)


class TestingStateData(StateData):
    scripts: list[str] = Field(default_factory=list)
    outputs: list[ExecutionOutput] = Field(default_factory=list)


class EditingStateData(StateData):
    test_files: list[str] = Field(default_factory=list)
    original_codebase_outputs: list[ExecutionOutput] = Field(default_factory=list)
    initial_test_file: str | None = None
    search_replaces: list[str] = Field(default_factory=list)
    patches: list[str] = Field(default_factory=list)
    edited_codebase_outputs: list[ExecutionOutput] = Field(default_factory=list)


class PatchData(BaseModel):
    model_config = _LENIENT

    sample_index: int
    patch: str


class TestData(BaseModel):
    model_config = _LENIENT

    sample_index: int
    test: str


class GeneratedTestExecutionResults(BaseModel):
    model_config = _LENIENT

    test_outputs_per_edit: list[list[ExecutionOutput]]
    test_outputs_on_empty_diff: list[ExecutionOutput] = Field(default_factory=list)
    patch_data: list[PatchData]
    test_data: list[TestData]
    costs: list[float] = Field(default_factory=list)


class SelectionData(StateData):
    candidates: list[PatchData] = Field(default_factory=list)
    selected_patch: int | None = None


class SelectionStateMachineData(SelectionData):
    example_test: str | None = None
    generated_tests: list[str] = Field(default_factory=list)
    edited_codebase_outputs: list[list[ExecutionOutput]] = Field(default_factory=list)
    original_codebase_outputs: list[ExecutionOutput] = Field(default_factory=list)


class HarnessResult(BaseModel):
    model_config = _LENIENT

    resolved: bool
    report: Any = None


class SampleEvaluation(BaseModel):
    model_config = _LENIENT

    patch_to_results: dict[str, HarnessResult]


class SolutionEnsemble(BaseModel):
    model_config = _LENIENT

    example_test: str | None = None
    patch_to_results: dict[str, bool]
