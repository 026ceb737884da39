"""The `Model` handle components receive: every call is logged, and answered from cache when it can.

A `ModelService` belongs to a run: it owns the backend (an OpenAI-compatible client or anything
implementing `ChatBackend`), the store writer and the call cache. The runner asks it for a handle
bound to (run, instance, stage, config hash); that handle is the only way a component reaches a
model, so a call that is not recorded cannot be made.

Each call writes one `sequences` row (a cache hit too, marked `from_cache`, pointing at the same
content-addressed texts), and the row is queued on the store writer before the call returns. The
writer is FIFO, so a stage result that commits after its calls is never durable without them; a
crash loses at most the calls not yet written (the writer batches them for up to
`StoreWriter.batch_window_s`), which a resumed run repeats.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace

from swepipe.errors import ModelError
from swepipe.ids import new_id
from swepipe.models.client import CallResult, ChatBackend
from swepipe.models.redact import redact_text
from swepipe.models.retry import ModelCallError
from swepipe.models.tokens import estimate_tokens
from swepipe.store.call_cache import CallCache
from swepipe.store.sequences import request_hash, sequence_rows
from swepipe.store.stage_cache import CachePolicy
from swepipe.store.writer import RowsCommit, StoreWriter
from swepipe.types import Completion, Message, SamplingParams

log = logging.getLogger("swepipe.models")


@dataclass(frozen=True)
class Binding:
    """Where a call belongs; recorded on every `sequences` row."""

    run_id: str | None = None
    instance_id: str | None = None
    stage: str | None = None
    config_hash: str | None = None
    policy: CachePolicy = "use"
    """`off` (online RL) never answers from the call cache; every call is still logged."""


class ModelService:
    """One model for one run: backend + logging + call cache. Hands out bound `ModelHandle`s."""

    def __init__(self, backend: ChatBackend, writer: StoreWriter, cache: CallCache, *,
                 model: str, weights_revision: str | None = None) -> None:
        self.backend, self.writer, self.cache = backend, writer, cache
        self.model, self.weights_revision = model, weights_revision
        self._inflight: dict[str, asyncio.Future[Completion]] = {}
        self._written_contents: set[str] = set()
        self._pending_writes: set[asyncio.Future[int | None]] = set()
        self.calls = self.hits = self.failures = 0
        self.prompt_tokens = self.completion_tokens = 0

    def handle(self, binding: Binding) -> ModelHandle:
        return ModelHandle(self, binding)

    async def drain(self) -> None:
        """Wait until every queued `sequences` row is written (raises the first write error)."""
        if self._pending_writes:
            await asyncio.gather(*list(self._pending_writes))

    def _log_call(self, binding: Binding, messages: Sequence[Message], params: SamplingParams,
                  sample_idx: int, trajectory_id: str | None, turn: int, *,
                  completion: Completion | None = None, attempts: int | None = None,
                  error: str | None = None, sequence_id: str, key: str) -> None:
        row, contents = sequence_rows(
            model=self.model, messages=messages, params=params, sample_idx=sample_idx,
            choices=completion.choices if completion else (),
            usage=completion.usage if completion else None,
            status="ok" if completion else "failed", error=error, run_id=binding.run_id,
            instance_id=binding.instance_id, stage=binding.stage,
            config_hash=binding.config_hash, trajectory_id=trajectory_id, turn=turn,
            weights_revision=self.weights_revision,
            latency_s=0.0 if completion and completion.from_cache else
            (completion.latency_s if completion else None),
            attempts=attempts, from_cache=bool(completion and completion.from_cache),
            sequence_id=sequence_id, request_key=key)
        if completion is not None and not completion.from_cache:
            self.prompt_tokens += completion.usage.prompt_tokens
            self.completion_tokens += completion.usage.completion_tokens
        # a long prompt shared by 40 samples is sent to the writer once per process
        fresh = [c for c in contents if c["content_hash"] not in self._written_contents]
        self._written_contents.update(c["content_hash"] for c in fresh)
        unit = RowsCommit({"sequences": [row], "contents": fresh},
                          ignore_existing=frozenset({"contents"}))
        future = self.writer.submit(unit)
        self._pending_writes.add(future)
        future.add_done_callback(self._write_done)

    def _write_done(self, future: asyncio.Future[int | None]) -> None:
        self._pending_writes.discard(future)
        if not future.cancelled() and future.exception() is not None:
            log.error("could not record a model call: %s", future.exception())


class ModelHandle:
    """Implements `protocols.Model` for one binding."""

    def __init__(self, service: ModelService, binding: Binding) -> None:
        self._service, self.binding = service, binding
        self.name = service.model

    def __repr__(self) -> str:
        return f"ModelHandle({self.name!r}, stage={self.binding.stage!r})"

    def rebind(self, **changes: object) -> ModelHandle:
        return ModelHandle(self._service, replace(self.binding, **changes))

    async def chat(self, messages: Sequence[Message], params: SamplingParams | None = None, *,
                   sample_idx: int = 0, trajectory_id: str | None = None,
                   turn: int = 0) -> Completion:
        svc, params = self._service, params or SamplingParams()
        messages = list(messages)
        key = request_hash(svc.model, messages, params, sample_idx)
        trajectory_id = trajectory_id or new_id()
        log_call = dict(binding=self.binding, messages=messages, params=params,
                        sample_idx=sample_idx, trajectory_id=trajectory_id, turn=turn, key=key)
        if self.binding.policy != "off":
            # a twin call may finish between the lookup's answer and this task resuming: ask
            # the memory again, then the in-flight table, with no await in between
            hit = await svc.cache.lookup(key) or svc.cache.recall(key)
            if hit is None and key in svc._inflight:  # the same request is being made now
                hit = (await asyncio.shield(svc._inflight[key])).model_copy(
                    update={"from_cache": True})
            if hit is not None:
                svc.hits += 1
                sequence_id = new_id()
                svc._log_call(**log_call, completion=hit, sequence_id=sequence_id)
                return hit.model_copy(update={"sequence_id": sequence_id, "from_cache": True})
        flight: asyncio.Future[Completion] = asyncio.get_running_loop().create_future()
        svc._inflight.setdefault(key, flight)
        sequence_id = new_id()
        try:
            svc.calls += 1
            result: CallResult = await svc.backend.chat(svc.model, messages, params)
        except BaseException as exc:
            if isinstance(exc, ModelError):  # a failed call is logged; a cancelled one is not
                svc.failures += 1
                attempts = exc.attempts if isinstance(exc, ModelCallError) else None
                svc._log_call(**log_call, attempts=attempts, error=redact_text(str(exc)),
                              sequence_id=sequence_id)
            _forget(svc._inflight, key, flight, exc)
            svc.cache.forget(key)
            raise
        completion = result.completion  # the client's own object: no copy needed
        completion.sequence_id = sequence_id
        svc._log_call(**log_call, completion=completion, attempts=result.attempts,
                      sequence_id=sequence_id)
        svc.cache.remember(key, completion)
        if not flight.done():
            flight.set_result(completion)
        svc._inflight.pop(key, None)
        return completion

    async def drain(self) -> None:
        await self._service.drain()

    async def count_tokens(self, text: str) -> int:
        exact = await self._service.backend.tokenize(self.name, text)
        return estimate_tokens(text) if exact is None else exact


def _forget(inflight: dict[str, asyncio.Future[Completion]], key: str,
            flight: asyncio.Future[Completion], exc: BaseException) -> None:
    if inflight.get(key) is flight:
        del inflight[key]
    if not flight.done():
        flight.set_exception(exc)
        flight.exception()  # mark retrieved: nobody may be waiting on a failed flight
