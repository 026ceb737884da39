"""Choosing where an instance's code runs: the local sandbox, or the instance's harness image.

`Executors(kind, ...)` is called with an instance and returns its `Executor`: one shared
`LocalSandbox` for `local`, a `DockerExecutor` per instance for `docker` (each instance has its
own image). `swepipe evaluate --executor docker` and a pipeline config's `execution = "docker"`
both go through here, so every stage that runs tests picks the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Literal

from swepipe.errors import ExecutionError
from swepipe.execute.docker import DockerConfig, DockerExecutor, find_image
from swepipe.execute.sandbox import LocalSandbox, SandboxConfig
from swepipe.protocols import Executor
from swepipe.types import Instance

ExecutorKind = Literal["local", "docker"]


class Executors:
    """Instance -> executor, for one kind; Docker executors are made once per instance."""

    def __init__(self, kind: ExecutorKind = "local", *, sandbox: SandboxConfig | None = None,
                 docker: DockerConfig | None = None) -> None:
        self.kind = kind
        self.docker_config = docker or DockerConfig()
        self._local: Executor | None = (LocalSandbox(sandbox or SandboxConfig())
                                        if kind == "local" else None)
        self._docker: dict[str, DockerExecutor] = {}

    @classmethod
    def wrap(cls, executor: Executor | Executors) -> Executors:
        """An `Executors` that hands out `executor` for every instance (for a given one)."""
        if isinstance(executor, Executors):
            return executor
        fixed = cls("local")
        fixed._local = executor
        return fixed

    @property
    def needs_checkout(self) -> bool:
        """False for harness images, which hold the repository at their workdir: a host checkout
        then only serves path checks, and an empty directory does for those."""
        return self.kind != "docker" and not isinstance(self._local, DockerExecutor)

    def __call__(self, instance: Instance) -> Executor:
        if self._local is not None:
            return self._local
        found = self._docker.get(instance.instance_id)
        if found is None:
            found = self._docker[instance.instance_id] = DockerExecutor.for_instance(
                instance.instance_id, self.docker_config)
        return found

    def prepare(self, instance_ids: Iterable[str]) -> None:
        """Docker: find (or, with `pull`, pull) every instance's image before anything runs, and
        fail naming those missing, rather than recording them as failed runs one by one."""
        if self.kind != "docker":
            return
        asked = set(instance_ids)
        # an image found by an earlier prepare (a run's checks, an earlier config of its grid)
        # is not looked up again
        ids = sorted(asked - {i for i, e in self._docker.items() if e.image is not None})
        c = self.docker_config

        def one(instance_id: str) -> tuple[str, str | ExecutionError]:
            try:
                return instance_id, find_image(instance_id, c)
            except ExecutionError as exc:
                return instance_id, exc

        with ThreadPoolExecutor(max_workers=4) as pool:
            found = dict(pool.map(one, ids))
        missing = {i: r for i, r in found.items() if isinstance(r, ExecutionError)}
        if missing:
            first = next(iter(missing.values()))
            raise ExecutionError(f"no harness image for {len(missing)} of {len(asked)} instances "
                                 f"({', '.join(list(missing)[:5])}"
                                 f"{', ...' if len(missing) > 5 else ''}): {first}")
        for instance_id, image in found.items():
            self._docker[instance_id] = DockerExecutor(str(image), c, instance_id=instance_id)
