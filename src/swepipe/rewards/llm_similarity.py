"""`llm_similarity`: a judge model scores each current candidate against the gold patch, 0 to 1.

Per (candidate diff, gold patch) pair the judge gets one prompt (`prompts/llm_similarity_v<N>.txt`)
through the logged, cached `Model` handle, so a pair shared by several configs or samples is asked
once, and recomputing answers from the call cache (no new calls; the cache hits are still logged).
An empty candidate scores 0 without a call (the convention of every generation metric: an empty
output is not undefined). The reply's score is read by `parse_score`; an unparseable reply, an
out-of-range score or a failed call gives no row (undefined), and the reason is logged.

Where the calls are recorded: `sequences` rows with `stage = 'rewards'`, `config_hash` = the judge
config (`judge_config_hash`: component `llm_similarity`, the judge model, prompt version and
sampling) and the candidate's `instance_id`. Not the candidate's own stage and config: the view
`sequence_rewards` joins on (stage, config, sample), so judge calls bound to the generation config
would be exported as generation calls and credited with generation rewards. Under their own
binding they are counted by `swepipe cost` and skipped by `export --stage generate`.

Rows go to `rewards` (stage `generate`, metric `llm_similarity`), per sample and the per-instance
mean (`per_instance.sql`), replacing the metric's rows for the config in one transaction.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass, field

import pyarrow as pa

from swepipe import event_loop
from swepipe.errors import ModelError
from swepipe.hashing import config_hash as make_config_hash
from swepipe.prompts import load_prompt_file
from swepipe.models.handle import Binding, ModelHandle, ModelService
from swepipe.models.local import endpoint_service, scripted_service
from swepipe.models.scripted_rules import Rule, Script
from swepipe.models.settings import EndpointSettings
from swepipe.store.sql_files import load_query
from swepipe.store.store import Store, insert_rows, registered
from swepipe.store.writer import StoreWriter
from swepipe.types import Message, SamplingParams

log = logging.getLogger("swepipe.rewards")

METRIC = "llm_similarity"
JUDGE_STAGE = "rewards"
"""`sequences.stage` of judge calls (see the module docstring)."""
DEFAULT_SAMPLING = SamplingParams(temperature=0.0, max_tokens=1024)

_PLACEHOLDER = re.compile(r"\{([A-Za-z_]\w*)\}")
_NUMBER = r"(\d+(?:\.\d+)?|\.\d+)\s*(%|/\s*(\d+(?:\.\d+)?))?"
# most explicit form first; the last match of a form wins (a judge may restate its verdict)
_SCORE_FORMS = (re.compile(r"<score>\s*" + _NUMBER + r"\s*</score>", re.IGNORECASE),
                re.compile(r"\bscore\s*(?:is|of)?\s*[:=]?\s*\**\s*" + _NUMBER, re.IGNORECASE),
                re.compile(r"^\s*" + _NUMBER + r"\s*$"))


def load_prompt(version: str) -> str:
    return load_prompt_file("swepipe.rewards", f"llm_similarity_v{version}.txt")


def render_prompt(candidate: str, gold: str, version: str = "1") -> str:
    """The judge prompt; one-pass substitution, so braces inside the diffs are left alone."""
    values = {"candidate_patch": candidate.rstrip("\n"), "gold_patch": gold.rstrip("\n")}
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), load_prompt(version))


def parse_score(reply: str) -> float | None:
    """The score in a judge reply, or None. Accepted: `<score>0.7</score>`, `Score: 0.7`,
    `score = 7/10`, `70%`-style forms after "score", or a reply that is only a number.
    Fractions and percentages are converted; a value outside [0, 1] is None."""
    for form in _SCORE_FORMS:
        matches = list(form.finditer(reply or ""))
        if not matches:
            continue
        num, suffix, denom = matches[-1].groups()
        value = float(num)
        if suffix == "%":
            value /= 100
        elif denom is not None:
            value = value / float(denom) if float(denom) > 0 else -1.0
        return value if 0.0 <= value <= 1.0 else None
    return None


def judge_config_hash(model: str, prompt_version: str, sampling: SamplingParams) -> str:
    """The `sequences.config_hash` of judge calls (not registered in `configs`: no stage runs)."""
    return make_config_hash(METRIC, "1", {"model": model, "prompt_version": prompt_version,
                                          "sampling": sampling.model_dump(mode="json")})


@dataclass
class LLMSimilarityReport:
    candidates: int = 0
    pairs: int = 0
    """Distinct (non-empty candidate diff, gold patch) pairs sent to the judge."""
    scored: int = 0
    """Candidate rows written (per sample; the per-instance means come on top)."""
    unparseable: int = 0
    failed: int = 0
    reasons: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (f"llm_similarity: {self.candidates} candidates, {self.pairs} judged pairs, "
                f"{self.scored} scored, {self.unparseable} unparseable, {self.failed} failed")


async def judge_similarity(store: Store, service: ModelService, *, config_hash: str | None = None,
                           concurrency: int = 8, prompt_version: str = "1",
                           sampling: SamplingParams | None = None) -> LLMSimilarityReport:
    """Score the current candidates (one generation config, or all) and store the rewards."""
    sampling = sampling or DEFAULT_SAMPLING
    rows = (await asyncio.to_thread(store.query, load_query("rewards/llm_similarity_pairs"),
                                    {"config_hash": config_hash})).to_pylist()
    report = LLMSimilarityReport(candidates=len(rows))
    pairs: dict[tuple[str, str], str] = {}  # (diff, gold) -> an instance id to bind the call to
    for r in rows:
        if r["diff"].strip():
            pairs.setdefault((r["diff"], r["gold_patch"]), r["instance_id"])
    report.pairs = len(pairs)
    judge_hash = judge_config_hash(service.model, prompt_version, sampling)
    base = service.handle(Binding(stage=JUDGE_STAGE, config_hash=judge_hash))
    gate = asyncio.Semaphore(max(concurrency, 1))

    async def ask(pair: tuple[str, str], instance_id: str) -> float | None:
        model: ModelHandle = base.rebind(instance_id=instance_id)
        prompt = render_prompt(pair[0], pair[1], prompt_version)
        async with gate:
            try:
                reply = await model.chat([Message(role="user", content=prompt)], sampling)
            except ModelError as exc:
                _note(report, "failed", f"{instance_id}: judge call failed: {exc}")
                return None
        score = parse_score(reply.text)
        if score is None:
            _note(report, "unparseable", f"{instance_id}: no score in [0, 1] in the judge's "
                                         f"reply {reply.text[-200:]!r}")
        return score

    keys = list(pairs)
    scores = dict(zip(keys, await asyncio.gather(*(ask(k, pairs[k]) for k in keys))))
    await service.drain()
    new = [{"instance_id": r["instance_id"], "stage": "generate",
            "config_hash": r["config_hash"], "sample_idx": r["sample_idx"], "metric": METRIC,
            "value": 0.0 if not r["diff"].strip() else scores[(r["diff"], r["gold_patch"])]}
           for r in rows]
    new = [r for r in new if r["value"] is not None]
    report.scored = len(new)
    await asyncio.to_thread(_store_rewards, store, new, config_hash)
    return report


def _note(report: LLMSimilarityReport, counter: str, reason: str) -> None:
    setattr(report, counter, getattr(report, counter) + 1)
    report.reasons.append(reason)
    log.warning("%s", reason)


_REWARD_SCHEMA = pa.schema([("instance_id", pa.string()), ("stage", pa.string()),
                            ("config_hash", pa.string()), ("sample_idx", pa.int32()),
                            ("metric", pa.string()), ("value", pa.float64())])


def _store_rewards(store: Store, rows: list[dict], config_hash: str | None) -> None:
    """Replace the metric's rows (for the config, or all) in one transaction, as compute does."""
    with store.transaction() as conn:
        with registered(conn, _new=pa.Table.from_pylist(rows, schema=_REWARD_SCHEMA)):
            table = conn.sql(load_query("rewards/per_instance")).to_arrow_table()
        conn.execute(load_query("rewards/delete_metric"),
                     {"stage": "generate", "metric": METRIC, "config_hash": config_hash})
        insert_rows(conn, "rewards", table)


def exact_match_script() -> Script:
    """What the scripted judge says when no endpoint is given (offline runs, the demo): 1 when
    the candidate is the reference patch verbatim, else 0. A stand-in, not a judgement."""
    same = (r"<reference_patch>\n(.*)\n</reference_patch>\s*"
            r"<candidate_patch>\n\1\n</candidate_patch>")
    return Script(default="Different from the reference patch.\n<score>0</score>",
                  rules=[Rule(pattern=same, reply="Identical to the reference patch.\n"
                                                  "<score>1</score>")])


def run_llm_similarity(store: Store, judge_model: str, *, endpoint: str | None = None,
                       config_hash: str | None = None, concurrency: int = 8,
                       prompt_version: str = "1") -> LLMSimilarityReport:
    """`swepipe rewards --metric llm_similarity`: judge through `endpoint` (an OpenAI base URL),
    or through the scripted server with `exact_match_script()` when none is given."""

    async def main() -> LLMSimilarityReport:
        async with StoreWriter(store) as writer:
            if endpoint is not None:
                settings = EndpointSettings(base_url=endpoint)
                async with endpoint_service(store, writer, settings, model=judge_model) as svc:
                    return await judge_similarity(store, svc, config_hash=config_hash,
                                                  concurrency=concurrency,
                                                  prompt_version=prompt_version)
            async with scripted_service(store, writer, exact_match_script(),
                                        model=judge_model) as (svc, _server):
                return await judge_similarity(store, svc, config_hash=config_hash,
                                              concurrency=concurrency,
                                              prompt_version=prompt_version)

    return event_loop.run(main())
