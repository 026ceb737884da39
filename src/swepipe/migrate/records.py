"""The shapes of Agentless cache records (docs/legacy-formats.md), as pydantic models.

They validate what a stage reads and nothing more: unknown keys are allowed in repair, test and
prediction records (every Agentless fork adds some), but a known key with the wrong type is a
bad line, named by its field. Localization records are checked for foreign keys before this
(detect.py: a `found_files` record with keys Agentless never writes is another tool's format). The
unions cover the format generations: v1.0 stores per-file values as lists aligned with
`found_files`, v1.5 as dicts keyed by path, the multi-file repair generation stores lists of files.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

_LENIENT = ConfigDict(extra="allow")

PerFileDict = dict[str, list[str]]
"""v1.5: `{"path.py": ["function: f\\nclass: C"]}`."""
PerFileList = list[list[str]]
"""v1.0: `[["class: A"], ["function: f"]]`, aligned with `found_files`."""


class Traj(BaseModel):
    """One model call as Agentless logs it. `response` is a list for the multi-sample edit stage
    (one prompt, several samples, summed usage)."""

    model_config = _LENIENT

    prompt: str | None = None
    response: str | list[str] | None = None
    usage: dict[str, Any] = Field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return self.prompt is None and self.response is None


class LocRecord(BaseModel):
    """`<stage>/loc_outputs.jsonl`, `loc_merged_*`, `used_locs.jsonl`, `combined_locs.jsonl`."""

    model_config = _LENIENT

    instance_id: str
    found_files: list[str] = Field(default_factory=list)
    additional_artifact_loc_file: dict[str, Any] | None = None
    file_traj: Traj | None = None
    found_related_locs: PerFileDict | PerFileList | None = None
    related_loc_traj: list[Traj] | Traj | None = None
    found_edit_locs: (PerFileDict | list[PerFileDict] | PerFileList | list[PerFileList]
                      | None) = None
    edit_loc_traj: Traj | None = None

    @field_validator("found_files")
    @classmethod
    def _paths_not_empty(cls, value: list[str]) -> list[str]:
        # "" as a path would become a pointer to the repository root
        return [p for p in value if p]


class NodeInfo(BaseModel):
    model_config = _LENIENT

    code: str = ""
    metadata: dict[str, Any] = Field(default_factory=dict)


class RetrievalRecord(BaseModel):
    """`retrievel_embedding/retrieve_locs.jsonl` (and its copy `embed_used_locs.jsonl`)."""

    model_config = _LENIENT

    instance_id: str
    found_files: list[str] = Field(default_factory=list)
    node_info: list[NodeInfo] = Field(default_factory=list)
    traj: dict[str, Any] = Field(default_factory=dict)


class RepairRawRecord(BaseModel):
    """`repair_sample_k/output.jsonl`: every generation of one instance and its trajectories.

    `all_generations[0][j]` and `traj[j]` are sample j (Agentless `repair.py`); sample 0 is the
    greedy one (temperature 0), the others are sampled at 0.8."""

    model_config = _LENIENT

    instance_id: str
    raw_output: list[str] | str = Field(default_factory=list)
    all_generations: list[list[str]] = Field(default_factory=list)
    try_count: list[int] | int | None = None
    traj: list[Traj] = Field(default_factory=list)
    prev_content: Any = None
    file_names: Any = None


class RepairRecord(BaseModel):
    """`output_{i}_processed.jsonl` and its extensions: `_normalized` (+ normalized_patch),
    `_regression_test_results` (+ regression), `_reproduction_test_results` (+ reproduction).

    When the model produced nothing, Agentless writes only the first three fields."""

    model_config = _LENIENT

    model_name_or_path: str | None = None
    instance_id: str
    model_patch: str = ""
    raw_model_patch: str | None = None
    original_file_content: str | list[str] | None = None
    edited_files: list[str] | None = None
    new_file_content: list[str] | None = None
    normalized_patch: str | None = None
    regression: list[str] | None = None
    reproduction: bool | None = None

    @property
    def multi_file(self) -> bool:
        return isinstance(self.original_file_content, list) or self.edited_files is not None


class ReproductionTestRecord(BaseModel):
    """`output_{i}_processed_reproduction_test.jsonl` and the chosen `reproduction_tests.jsonl`."""

    model_config = _LENIENT

    model_name_or_path: str | None = None
    instance_id: str
    test_patch: str = ""
    raw_test_patch: str | None = None


class PassingTestsRecord(BaseModel):
    """`passing_tests.jsonl`: the tests that pass on the original code."""

    model_config = _LENIENT

    instance_id: str
    tests_passing_in_original_repo: list[str] = Field(default_factory=list)


class SelectRegressionRecord(BaseModel):
    """`select_regression/output.jsonl`: the model's choice of regression tests to run."""

    model_config = _LENIENT

    instance_id: str
    raw_output: Any = None
    tests_passing_in_original_repo: list[str] = Field(default_factory=list)
    original_regressions: list[str] | None = None
    traj: Traj | list[Traj] | None = None


class PredictionRecord(BaseModel):
    """`all_preds.jsonl` (SWE-bench predictions), also CodeMonkeys' final export."""

    model_config = _LENIENT

    model_name_or_path: str | None = None
    instance_id: str
    model_patch: str | None = ""
