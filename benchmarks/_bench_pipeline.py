"""Shared by pipeline_throughput.py and crash_safety.py: a replicated mini-benchmark in a store,
a scripted server in its own process, and the pipeline config to run.

The config is the `agentless` preset when the package has it (`--config agentless`), any config
file given with `--config FILE`, or (`--config builtin`, the fallback) the small pipeline of
the two components below plus majority vote: two sequential localization calls and four
parallel samples per instance, all answered by script rules made from the gold patches.

Replicas get a distinct problem statement (the copy number appended): with identical prompts
the call cache would answer every replica from the first one and no model call would be made.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from pathlib import Path

import yaml

from swepipe.datasets.ingest import ingest_instances
from swepipe.experiments.config import PRESETS_DIR, load_config
from swepipe.hashing import ComponentConfig
from swepipe.minibench import build_minibench, replicate
from swepipe.protocols import StageContext
from swepipe.repos.checkout import CheckoutConfig, Checkouts
from swepipe.store import Store
from swepipe.types import CodePointer, Instance, Message, Patch, SamplingParams

BENCH_DIR = Path(__file__).resolve().parent
DATASET = "bench"


class IssueLocalizerConfig(ComponentConfig):
    component: str = "_bench_pipeline:IssueLocalizer"
    code_version: str = "1"


class IssueLocalizer:
    """File, then function: two calls in sequence, as hierarchical localization does."""

    Config = IssueLocalizerConfig

    def __init__(self, config: IssueLocalizerConfig) -> None:
        self.config = config

    async def locate(self, instance: Instance, ctx: StageContext) -> list[CodePointer]:
        issue = instance.problem_statement
        path = (await ctx.model.chat([Message(role="user", content=(
            f"Which file should change?\n{issue}"))])).text.strip()
        if ctx.repo_dir is not None and not (ctx.repo_dir / path).is_file():
            raise ValueError(f"model named a file that does not exist: {path!r}")
        symbol = (await ctx.model.chat([Message(role="user", content=(
            f"Which function in {path} should change?\n{issue}"))])).text.strip()
        return [CodePointer(file_path=path, kind="function", symbol=symbol)]


class IssueDiffGeneratorConfig(ComponentConfig):
    component: str = "_bench_pipeline:IssueDiffGenerator"
    code_version: str = "1"
    samples: int = 4


class IssueDiffGenerator:
    """`samples` diffs of the localized file, requested in parallel."""

    Config = IssueDiffGeneratorConfig

    def __init__(self, config: IssueDiffGeneratorConfig) -> None:
        self.config = config

    async def generate(self, instance: Instance, context: list[CodePointer],
                       ctx: StageContext) -> list[Patch]:
        target = context[0].file_path

        async def one(k: int) -> Patch:
            reply = await ctx.model.chat([Message(role="user", content=(
                f"write a diff for {target}\n{instance.problem_statement}"))],
                SamplingParams(temperature=0.8), sample_idx=k)
            return Patch(diff=reply.text, sample_idx=k, files=[target])

        return list(await asyncio.gather(*(one(k) for k in range(self.config.samples))))


def _gold_file(patch: str) -> str:
    return re.search(r"^\+\+\+ b/(\S+)", patch, re.M).group(1)


def write_builtin(folder: Path, base: list[Instance]) -> tuple[Path, Path]:
    """The built-in config and its script (rules keyed on each issue's first line)."""
    rules = []
    for i in base:
        title = re.escape(i.problem_statement.splitlines()[0])
        func = re.search(r"^[ +-]def (\w+)", i.patch, re.M)
        rules += [{"pattern": f"^Which file.*{title}", "reply": _gold_file(i.patch)},
                  {"pattern": f"^Which function.*{title}",
                   "reply": func.group(1) if func else "unknown"},
                  {"pattern": f"^write a diff.*{title}", "reply": i.patch}]
    script = folder / "bench_script.yaml"
    script.write_text(yaml.safe_dump({"rules": rules}, sort_keys=False))
    config = folder / "bench_builtin.toml"
    config.write_text(f'name = "bench-builtin"\ndataset = "{DATASET}"\n'
                      f'[model]\nscript = "{script}"\n'
                      '[localize]\ncomponent = "_bench_pipeline:IssueLocalizer"\n'
                      '[generate]\ncomponent = "_bench_pipeline:IssueDiffGenerator"\n'
                      'samples = 4\n[select]\ncomponent = "majority_vote"\n')
    return config, script


def replicas(base: list[Instance], n: int) -> list[Instance]:
    return [i.model_copy(update={"problem_statement": f"{i.problem_statement}\n(copy {k})\n"})
            for k, i in enumerate(replicate(base, n))]


def prepare(folder: Path, n: int, config_arg: str, script: str | None = None,
            ) -> tuple[Path, str, Path | None, list[str]]:
    """Repos, a store holding `n` replicas, and the config to run: (store path, config,
    script for the server, overrides). `script` overrides the config's `model.script`."""
    repos = folder / "repos"
    base = build_minibench(repos)
    # build the checkouts now: the timed runs measure the pipeline, not `git checkout-index`
    checkouts = Checkouts(CheckoutConfig(cache_dir=folder / "cache" / "checkouts",
                                         repos_dir=repos))
    for instance in base:
        checkouts.checkout(instance.repo, instance.base_commit)
    store_path = folder / "base.duckdb"
    ingest_instances(Store(store_path), replicas(base, n), DATASET, "minibench-replicas")
    overrides = [f"repos_dir={repos}", f"cache_dir={folder / 'cache'}", f"dataset={DATASET}"]
    if config_arg == "auto":  # the preset once it ships a script for the mini-benchmark
        preset = PRESETS_DIR / "agentless.toml"
        config_arg = "agentless" if preset.exists() and load_config(preset).model.script \
            else "builtin"
    if config_arg == "builtin":
        config, script = write_builtin(folder, base)
        return store_path, str(config), script, overrides
    script = script or load_config(config_arg).model.script
    return store_path, config_arg, Path(script) if script else None, overrides


class ServerProcess:
    """The scripted server in its own process (so it does not share the runner's GIL)."""

    def __init__(self, script: Path | None, latency_ms: float) -> None:
        # `serve()` directly: what `swepipe serve-scripted --port 0` runs
        code = ("import sys; from swepipe.models.scripted_server import serve; "
                "serve('127.0.0.1', 0, float(sys.argv[1]), None, sys.argv[2] or None)")
        cmd = [sys.executable, "-c", code, str(latency_ms), str(script or "")]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()  # "scripted OpenAI-compatible server on URL"
        if "http://" not in line:
            self.proc.kill()
            raise RuntimeError(f"scripted server did not start: {line!r}")
        self.base_url = line.split()[-1]

    def endpoint(self, concurrency: int) -> str:
        return (f"model.endpoint={{base_url: '{self.base_url}', max_concurrency: {concurrency}, "
                "max_retries: 2, backoff_base_s: 0.01, timeout_s: 30}")

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
