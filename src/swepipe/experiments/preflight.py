"""Checks before a run starts, so that a configuration mistake is never cached as a failed result.

Every stage of every instance would hit the same mistake (no `repos_dir`, a dataset that was
never ingested, an endpoint that does not answer) and store it as a `failed` row that the next
run reads back. So `check_run` looks at what all stages need first and raises one `InputError`
naming the config key (`repos_dir`, `dataset`, `model.endpoint.base_url`, `execution`: with
`docker`, every instance's harness image must be on the daemon) and what to do. The
endpoint is probed once (`GET {base_url}/models`, <= 10 s) instead of letting every call spend
its retries against a wrong URL. Only endpoints the run will call are probed: a stage whose
every result is read back from the store (done, or failed without `--retry-failed`, under cache
policy `use`; `stages_to_compute`) calls no model, so resuming a finished run works with its
endpoint offline. With an `embedder` configured every endpoint is probed, as the run opens the
embedder (and may ask it for its dimension) before any stage runs.

After a run, `failure_lines` says why each failed result failed (its stored error) and how to
retry it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING

from swepipe.errors import InputError

if TYPE_CHECKING:
    from swepipe.execute.executors import Executors
    from swepipe.experiments.config import BuiltStage, PipelineConfig
    from swepipe.experiments.runner import InstanceOutcome
    from swepipe.models.settings import EndpointSettings
    from swepipe.store.store import Store
    from swepipe.types import Instance

MINIBENCH = "minibench"
PROBE_TIMEOUT_S = 4.0
"""Per phase of the probe (connect, read); the whole probe stays under 10 s."""


def check_run(store: Store, config: PipelineConfig, stages: dict[str, BuiltStage], *,
              probed: set[str] | None = None,
              executors: Executors | None = None) -> list[Instance]:
    """The run's instances, after checking the dataset, `repos_dir`, the harness images (found
    by `executors`, which keeps them for the run: `docker_executors`) and the endpoints (those
    not in `probed`, which collects what was probed)."""
    instances = check_dataset(store, config)
    if any(getattr(b.component, "needs_repo", True) for b in stages.values()):
        check_repos(config, instances)
    computing = stages_to_compute(store, config, stages, instances)
    if config.execution == "docker" and computing:
        check_images(config, instances, executors)
    calling = stages if config.embedder is not None else {
        s: b for s, b in stages.items() if s in computing}
    for key, endpoint in endpoints(config, calling):
        if probed is None or endpoint.base_url not in probed:
            probe_endpoint(key, endpoint)
        if probed is not None:  # the configs of a grid share their endpoints: probe each once
            probed.add(endpoint.base_url)
    return instances


def check_dataset(store: Store, config: PipelineConfig) -> list[Instance]:
    from swepipe.datasets.ingest import load_instances, require_dataset

    found = load_instances(store, config.dataset, config.instances, config.limit)
    # a mistyped id among good ones would silently run fewer instances than asked for
    missing = sorted(set(config.instances or ()) - {i.instance_id for i in found})
    if found and not missing:
        return found
    if config.dataset == MINIBENCH:
        todo = ("it is the bundled mini-benchmark: run `swepipe demo` once (it builds its "
                "repositories and ingests it), then re-run with repos_dir=.swepipe-cache/repos")
    else:
        todo = f"run `swepipe ingest FILE --dataset {config.dataset}` first"
    require_dataset(store, config.dataset, hint=todo)
    what = (f"none of the instances {config.instances}" if not found else
            f"{len(missing)} of the {len(set(config.instances or ()))} instances asked for: "
            f"{', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}")
    raise InputError(f"dataset {config.dataset!r} holds {what}", field="instances")


def check_repos(config: PipelineConfig, instances: list[Instance]) -> None:
    """Every instance has a ready tree in `trees_dir`, or `repos_dir` is set and holds a clone
    of its repository."""
    from swepipe.repos.checkout import CheckoutConfig, Checkouts, require_dir

    # one for both, as the runner builds it: tree_for reads only trees_dir, clone_for repos_dir
    # (trees_dir only in its error message, which is not shown here)
    checkouts = Checkouts(CheckoutConfig(cache_dir=config.cache_dir / "checkouts",
                                         repos_dir=config.repos_dir, trees_dir=config.trees_dir))
    if config.trees_dir is not None:
        require_dir(config.trees_dir, "trees_dir")
        instances = [i for i in instances if checkouts.tree_for(i.instance_id) is None]
        if not instances:
            return
    if config.repos_dir is None:
        demo_repos = config.cache_dir / "repos"
        hint = (f"; the demo's mini-benchmark clones are in {demo_repos}: add "
                f"repos_dir={demo_repos}" if config.dataset == MINIBENCH and demo_repos.is_dir()
                else "; add repos_dir=DIR (local clones named owner__name, e.g. django__django)")
        raise InputError(f"repos_dir is not set and the stages need the repositories{hint}",
                         field="repos_dir")
    require_dir(config.repos_dir, "repos_dir")
    needed = Counter(i.repo for i in instances)
    missing = []
    for repo, count in sorted(needed.items()):
        try:
            checkouts.clone_for(repo)
        except InputError:
            missing.append(f"{repo.replace('/', '__')} ({count} instance{'s' * (count > 1)})")
    if missing:
        raise InputError(f"repos_dir {config.repos_dir} has no clone of "
                         f"{', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}",
                         field="repos_dir")


def check_images(config: PipelineConfig, instances: list[Instance],
                 executors: Executors | None = None) -> None:
    """With `execution = "docker"`, every instance's harness image is on the daemon (or pulled,
    with `docker.pull`): else each stage that runs tests would fail, or fall back, per instance.
    The images found stay in `executors` (a new one if None), for the run to use."""
    from swepipe.errors import ExecutionError
    from swepipe.execute.executors import Executors

    if executors is None:
        executors = Executors("docker", docker=config.docker)
    try:
        executors.prepare(i.instance_id for i in instances)
    except ExecutionError as exc:
        raise InputError(f"execution=docker: {exc}", field="execution") from None


def docker_executors(config: PipelineConfig, shared: dict[str, Executors]) -> Executors | None:
    """With `execution = "docker"`, the run's `Executors`: one per distinct `docker` settings,
    kept in `shared`, so that the configs of a grid and the runs after their checks find each
    harness image once (None for local execution)."""
    from swepipe.execute.executors import Executors

    if config.execution != "docker":
        return None
    key = config.docker.model_dump_json()
    if key not in shared:
        shared[key] = Executors("docker", docker=config.docker)
    return shared[key]


def stages_to_compute(store: Store, config: PipelineConfig, stages: dict[str, BuiltStage],
                      instances: list[Instance]) -> set[str]:
    """The stages that will compute (rather than read back) a result for some instance, as the
    stage cache decides (store/stage_cache.py): policy other than `use`, or an instance with no
    done result and no failed one to read back. An instance whose stage result is a stored
    failure goes no further, so the stages after it do not count it."""
    import pyarrow as pa

    from swepipe.store.sql_files import load_query
    from swepipe.store.store import registered
    from swepipe.types import STAGES

    live = {i.instance_id for i in instances}  # the instances that reach the stage
    keys = pa.Table.from_pylist([{"instance_id": i.instance_id,
                                  "instance_hash": i.content_hash()} for i in instances])
    computing: set[str] = set()
    with store.connect() as conn, registered(conn, _keys=keys):
        for stage in (s for s in STAGES if s in stages):
            if not live:
                break
            if config.cache.get(stage, "use") != "use":
                computing.add(stage)
                continue
            state = conn.execute(load_query("store/cached_state"),
                                 {"stage": stage, "config_hash": stages[stage].hash}).fetchall()
            done = {row[0] for row in state if row[1] is not None}
            failed = set() if config.retry_failed else {
                row[0] for row in state if row[1] is None and row[2] == "failed"}
            if live - done - failed:
                computing.add(stage)
            live -= failed
    return computing


def endpoints(config: PipelineConfig,
              stages: dict[str, BuiltStage]) -> list[tuple[str, EndpointSettings]]:
    """(config key, settings) of every distinct served endpoint the run calls."""
    out: dict[str, tuple[str, EndpointSettings]] = {}
    for stage, built in stages.items():
        if built.model is not None and built.model.endpoint is not None:
            key = ("model" if "model" not in config.stage_spec(stage)
                   else f"{stage}.model") + ".endpoint.base_url"
            out.setdefault(built.model.endpoint.base_url, (key, built.model.endpoint))
    if config.embedder is not None and config.embedder.endpoint is not None:
        out.setdefault(config.embedder.endpoint.base_url,
                       ("embedder.endpoint.base_url", config.embedder.endpoint))
    return list(out.values())


def probe_endpoint(key: str, endpoint: EndpointSettings) -> None:
    """One `GET {base_url}/models` (every OpenAI-compatible server has it): raise when the
    server cannot be reached, refuses the key or does not answer it with a success."""
    import httpx

    from swepipe.models.redact import redact_text, redact_url, url_secrets

    url = endpoint.url("models")
    api_key = endpoint.api_key()
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    try:
        # no redirects: one connect and one read bound the probe (4 s + 4 s, plus write/pool)
        response = httpx.get(url, headers=headers, follow_redirects=False,
                             timeout=httpx.Timeout(PROBE_TIMEOUT_S, write=1.0, pool=1.0))
    except httpx.HTTPError as exc:
        reason = redact_text(str(exc), (api_key, *url_secrets(endpoint.base_url)))
        raise InputError(f"{key}: cannot reach {redact_url(endpoint.base_url)}: "
                         f"{type(exc).__name__}: {reason or 'no answer'}".splitlines()[0],
                         field=key) from None
    if response.status_code in (401, 403):
        raise InputError(f"{key}: {redact_url(endpoint.base_url)} refused the API key "
                         f"(HTTP {response.status_code}); set it in ${endpoint.api_key_env}",
                         field=key)
    if response.status_code >= 400:
        hint = " (is it the OpenAI root, ending in /v1?)" * (response.status_code == 404)
        raise InputError(f"{key}: {redact_url(endpoint.base_url)} answered GET /models with "
                         f"HTTP {response.status_code}{hint}", field=key)


def failure_lines(outcomes: Iterable[InstanceOutcome], *, shown: int = 10) -> list[str]:
    """One line per failed result (stage, instance, stored error) and how to retry them."""
    failed = [(stage, o.instance_id, r) for o in outcomes for stage, r in o.results.items()
              if r.status == "failed"]
    lines = [f"failed: {stage} {instance_id}{' (stored by an earlier run)' * r.from_cache}: "
             f"{(r.error or 'no error recorded').splitlines()[0][:300]}"
             for stage, instance_id, r in failed[:shown]]
    if len(failed) > shown:
        lines.append(f"... and {len(failed) - shown} more (`swepipe sql \"SELECT * FROM "
                     "stage_runs WHERE status = 'failed'\"`)")
    if failed:
        lines.append("a failed result is kept and read back: re-run with --retry-failed to "
                     "compute it again")
    return lines
