"""Pipeline configuration: a TOML or YAML file, `key=value` overrides, and a hyper-parameter grid.

    name = "agentless"
    dataset = "swe-bench-lite"
    [model]
    name = "Qwen/Qwen2.5-Coder-32B-Instruct"
    [model.endpoint]                 # runtime: where the model is served (never hashed)
    base_url = "http://gpu-node:8000/v1"
    [localize]
    component = "agentless"
    [generate]
    component = "agentless"
    samples = 10
    [select]
    component = "majority_vote"
    [hypers]                         # a grid: one config per combination
    "generate.temperature" = [0.4, 0.8]

Overrides use CodeMonkeys/pydra style, `key=value` and `a.b=value`, values parsed as YAML
scalars (`generate.samples=4`, `cache.localize=recompute`, `model.endpoint=null`).
Each stage's config hash chains the upstream stage's hash and, for components that use a model,
the model identity (name, weights revision) - never the endpoint.
"""

from __future__ import annotations

import copy
import itertools
import json
import tomllib
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field, ValidationError

from swepipe.errors import InputError
from swepipe.execute.docker import DockerConfig
from swepipe.execute.executors import ExecutorKind
from swepipe.execute.sandbox import SandboxConfig
from swepipe.hashing import ComponentConfig, config_hash
from swepipe.models.local import SCRIPTED_MODEL
from swepipe.models.settings import EndpointSettings
from swepipe.registry import build
from swepipe.store.stage_cache import CachePolicy
from swepipe.types import STAGES, StageName

PRESETS_DIR = Path(__file__).with_name("presets")


class ModelConfig(BaseModel):
    model_config = {"extra": "forbid"}

    name: str = SCRIPTED_MODEL
    """Model identity as it enters config hashes."""
    weights_revision: str | None = None
    """Weights revision (e.g. an RL checkpoint id); part of the identity, recorded per call."""
    endpoint: EndpointSettings | None = None
    """Where it is served (runtime). None = the scripted server shipped in the package."""
    script: str | None = None
    """Scripted-server script file (YAML/JSON) used when `endpoint` is None; `minibench` is the
    bundled script that plays the presets on the bundled mini-benchmark."""


class EmbedderConfig(BaseModel):
    model_config = {"extra": "forbid"}

    name: str
    """Served embedding model; a retrieval localizer with `embedder = <name>` uses it."""
    dim: int | None = None
    """Vector size, when known before the first call."""
    endpoint: EndpointSettings | None = None
    """Where it is served (runtime). None = the same endpoint as `model` (or the scripted
    server, whose embeddings are deterministic)."""


class PipelineConfig(BaseModel):
    model_config = {"extra": "forbid"}

    name: str = "pipeline"
    """Experiment name, recorded on the run."""
    dataset: str = "swe-bench-lite"
    """Dataset in the store whose instances are run."""
    instances: list[str] | None = None
    """Only these instance ids (default: all of the dataset)."""
    limit: int | None = None
    """At most this many instances (in id order)."""
    model: ModelConfig = Field(default_factory=ModelConfig)
    embedder: EmbedderConfig | None = None
    """A served embedding model for retrieval (default: the local embedder, no model)."""
    localize: dict[str, Any] = Field(default_factory=lambda: {"component": "oracle"})
    """The localizer: `component` plus its config fields."""
    generate: dict[str, Any] = Field(default_factory=lambda: {"component": "oracle"})
    select: dict[str, Any] = Field(default_factory=lambda: {"component": "majority_vote"})
    cache: dict[StageName, CachePolicy] = Field(default_factory=dict)
    """Cache policy per stage: use (default), recompute, off."""
    concurrency: dict[StageName, int] = Field(default_factory=dict)
    """Instances computed at once per stage (default 8)."""
    retry_failed: bool = False
    """Recompute results whose latest attempt failed."""
    repos_dir: Path | None = None
    """Directory of local clones named owner__name (runtime)."""
    trees_dir: Path | None = None
    """Directory of ready checkouts named `<instance_id>` (plain trees at the base commit),
    tried before `repos_dir` (runtime)."""
    cache_dir: Path = Path(".swepipe-cache")
    """Checkouts and indexes (runtime)."""
    sandbox: SandboxConfig = Field(default_factory=SandboxConfig)
    """Limits of the local sandbox (runtime)."""
    execution: ExecutorKind = "local"
    """Where stages run tests and model-written code: `local` (the sandbox) or `docker` (each
    instance's SWE-bench harness image, settings in `docker`) (runtime)."""
    docker: DockerConfig = Field(default_factory=DockerConfig)
    """Settings of the Docker executor, used with `execution = "docker"` (runtime)."""
    hypers: dict[str, list[Any]] = Field(default_factory=dict)
    """Grid of dotted keys -> values; `expand_hypers` makes one config per combination."""

    def stage_spec(self, stage: StageName) -> dict[str, Any]:
        return getattr(self, stage)


def parse_value(text: str) -> Any:
    # YAML 1.1 reads on/off/yes/no as booleans; `cache.generate=off` means the string
    if text.strip().lower() in {"on", "off", "yes", "no", "y", "n"}:
        return text.strip()
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def set_dotted(data: dict[str, Any], key: str, value: Any) -> None:
    parts = key.split(".")
    node = data
    for part in parts[:-1]:
        if node.get(part) is None:
            node[part] = {}
        if not isinstance(node[part], dict):
            raise InputError(f"cannot set {key!r}: {part!r} is not a table", field=key)
        node = node[part]
    node[parts[-1]] = value


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    data = copy.deepcopy(data)
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InputError(f"override {item!r} is not key=value", field=item)
        set_dotted(data, key.strip(), parse_value(value))
    return data


def read_config_file(path: str | Path) -> dict[str, Any]:
    """A TOML or YAML config file, or a preset name (`agentless`, `codemonkeys`)."""
    path = Path(path)
    if not path.exists() and (PRESETS_DIR / f"{path}.toml").exists():
        path = PRESETS_DIR / f"{path}.toml"
    try:
        text = path.read_text()
    except OSError as exc:
        raise InputError(f"cannot read config: {exc.strerror}", source=str(path)) from exc
    try:
        data = tomllib.loads(text) if path.suffix == ".toml" else yaml.safe_load(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        raise InputError(f"not valid {path.suffix.lstrip('.') or 'YAML'}: {exc}",
                         source=str(path)) from exc
    if not isinstance(data, dict):
        raise InputError("a config file must hold a table", source=str(path))
    return data


def validate(data: dict[str, Any], source: str = "config") -> PipelineConfig:
    try:
        return PipelineConfig.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise InputError(err["msg"], source=source,
                         field=".".join(str(p) for p in err["loc"])) from exc


def load_config(path: str | Path | None, overrides: list[str] | None = None) -> PipelineConfig:
    data = read_config_file(path) if path is not None else {}
    return validate(apply_overrides(data, overrides or []), str(path or "defaults"))


def grid_points(config: PipelineConfig) -> list[dict[str, Any]]:
    """The `hypers` grid's combinations as `{dotted key: value}`, in the order they run."""
    keys = sorted(config.hypers)
    return [dict(zip(keys, values))
            for values in itertools.product(*(config.hypers[k] for k in keys))]


def expand_hypers(config: PipelineConfig) -> list[PipelineConfig]:
    """One config per combination of the `hypers` grid (the config itself when there is none)."""
    if not config.hypers:
        return [config]
    base = config.model_dump(mode="json", exclude={"hypers"})
    out = []
    for point in grid_points(config):
        data = copy.deepcopy(base)
        for key, value in point.items():
            set_dotted(data, key, value)
        out.append(validate(data, "hypers"))
    return out


def grid_labels(config: PipelineConfig) -> list[str]:
    """`config 2 of 4: generate.temperature=0.8 ...` per config of `expand_hypers`."""
    points = grid_points(config) if config.hypers else [{}]
    return [f"config {i} of {len(points)}" + (": " if point else "") +
            " ".join(f"{k}={json.dumps(v)}" for k, v in point.items())
            for i, point in enumerate(points, 1)]


class BuiltStage:
    """A stage's component, its validated config and its config hash."""

    def __init__(self, stage: StageName, component: Any, config: ComponentConfig,
                 model: ModelConfig | None, upstream: dict[str, str]) -> None:
        self.stage, self.component, self.config, self.model = stage, component, config, model
        self.upstream = upstream
        self.params = config.identity()
        if model is not None:  # a component that calls a model is keyed by that model too
            self.params = {**self.params, "model": {"name": model.name,
                                                    "weights_revision": model.weights_revision}}
        self.hash = config_hash(config.component, config.code_version, self.params, upstream)


def build_stages(config: PipelineConfig) -> dict[StageName, BuiltStage]:
    """Build the three components, chaining each stage's hash into the next one's upstream."""
    built: dict[StageName, BuiltStage] = {}
    upstream: dict[str, str] = {}
    for stage in STAGES:
        spec = dict(config.stage_spec(stage))
        model = config.model
        if "model" in spec:  # a stage may use its own model
            model = ModelConfig.model_validate({**config.model.model_dump(), **spec.pop("model")})
        component, comp_config = build(stage, spec)
        uses_model = getattr(component, "uses_model", True)  # an instance may say per config
        built[stage] = BuiltStage(stage, component, comp_config, model if uses_model else None,
                                  dict(upstream))
        upstream = {stage: built[stage].hash}
    return built
