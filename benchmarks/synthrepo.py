"""A generated Python repository and issue-like queries against it (for the retrieval benchmark).

Deterministic for a seed. Each module has a topic (two nouns and a few verbs) that its classes,
functions, docstrings and comments are built from; topics overlap across modules, so finding a
file needs the combination of words, as in a real code base. A query describes the behaviour of
one function of its target file in one of three styles:
- `exact`: names the identifiers (`Cls.meth`), as issues with a traceback do;
- `partial`: names the class, describes the method in words;
- `paraphrase`: no identifiers, inflected words ("serializing nested cookies").
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

NOUNS = """cache session query template migration serializer widget form field model router
middleware signal storage paginator validator locale timezone cookie header request response
token password email message backend connection cursor schema index constraint aggregate
expression lookup manager admin filter sitemap feed upload image geometry raster translation
plural number calendar encoder decoder parser lexer node graph column table record batch
worker queue channel socket stream buffer archive bundle asset theme plugin hook event
permission group user profile account invoice payment order cart product catalog report chart
metric sample dataset vector matrix tensor kernel""".split()
VERBS = """parse render validate serialize compile resolve normalize encode decode flush load
save delete update merge split format escape quote clean build register dispatch filter sort
group aggregate compare convert coerce truncate paginate evict refresh annotate prefetch select
compress rotate schedule retry""".split()
ADJS = """empty nullable unicode nested recursive lazy cached deferred unique ordered naive aware
negative decimal binary compressed expired stale duplicate missing invalid default custom
abstract partial multiline localized signed""".split()
ERRORS = ["TypeError", "ValueError", "KeyError", "AttributeError", "IndexError",
          "RuntimeError"]
GERUND = {"e": "ing"}


def _gerund(verb: str) -> str:
    if verb.endswith("e") and not verb.endswith("ee"):
        return verb[:-1] + "ing"
    if verb in ("split", "set"):
        return verb + verb[-1] + "ing"
    return verb + "ing"


def _camel(*words: str) -> str:
    return "".join(w.capitalize() for w in words)


@dataclass
class Target:
    path: str
    cls: str | None
    func: str
    verb: str
    noun: str
    noun2: str
    adj: str


def _function(rng: random.Random, name: str, verb: str, noun: str, noun2: str, adj: str,
              indent: str, method: bool) -> list[str]:
    args = ", ".join((["self"] if method else []) + [noun, f"{noun2}=None", "strict=False"])
    local = f"{adj}_{noun2}"
    body = [
        f"{indent}def {name}({args}):",
        f'{indent}    """{_gerund(verb).capitalize()} the {noun} with its {noun2}.',
        "",
        f"{indent}    A {adj} {noun2} is {verb}d as well; strict mode raises instead.",
        f'{indent}    """',
        f"{indent}    if {noun} is None:",
        f"{indent}        raise {rng.choice(ERRORS)}('missing {noun}')",
        f"{indent}    {local} = _{verb}_{noun2}({noun2}) if {noun2} is not None else None",
    ]
    for _ in range(rng.randint(2, 8)):
        v, n = rng.choice(VERBS), rng.choice(NOUNS)
        body.append(f"{indent}    # {_gerund(v)} the {n} keeps the {adj} {noun2} stable")
        body.append(f"{indent}    {n}_{v} = {local} or {noun}.get({n!r}, {rng.randint(0, 99)})")
    body.append(f"{indent}    return {noun}")
    return body


def generate_module(rng: random.Random, path: str) -> tuple[str, list[Target]]:
    noun, noun2 = rng.sample(NOUNS, 2)
    verbs = rng.sample(VERBS, 4)
    adj = rng.choice(ADJS)
    lines = [f'"""{noun.capitalize()} {noun2} utilities: {", ".join(verbs)}."""', "",
             "import os", "import re", f"from . import {rng.choice(NOUNS)}_{rng.choice(NOUNS)}",
             "", f"DEFAULT_{noun.upper()}_{noun2.upper()} = {rng.randint(1, 500)}",
             f"{adj.upper()}_{noun.upper()}S = ({', '.join(repr(rng.choice(NOUNS)) for _ in range(4))})",
             ""]
    targets: list[Target] = []
    for _ in range(rng.randint(1, 2)):
        cls = _camel(rng.choice([adj, ""]) or noun2, noun, rng.choice(["Manager", "Handler",
                                                                      "Backend", "Base", ""]))
        lines += ["", f"class {cls}:", f'    """Keeps {noun} {noun2}s for the {noun} backend."""',
                  "", f"    max_{noun2}s = {rng.randint(1, 64)}", ""]
        lines += _function(rng, "__init__", "build", noun, noun2, adj, "    ", True) + [""]
        for _ in range(rng.randint(2, 6)):
            verb, n2, a = rng.choice(verbs), rng.choice(NOUNS), rng.choice(ADJS)
            name = f"{verb}_{rng.choice([noun, n2])}"
            lines += _function(rng, name, verb, noun, n2, a, "    ", True) + [""]
            targets.append(Target(path, cls, name, verb, noun, n2, a))
    for _ in range(rng.randint(2, 5)):
        verb, n2, a = rng.choice(verbs), rng.choice(NOUNS), rng.choice(ADJS)
        name = f"{verb}_{noun}_{n2}" if rng.random() < 0.5 else f"{verb}_{n2}"
        lines += ["", ""] + _function(rng, name, verb, noun, n2, a, "", False)
        targets.append(Target(path, None, name, verb, noun, n2, a))
    return "\n".join(lines) + "\n", targets


def generate_repo(root: Path, n_files: int = 3000, seed: int = 0) -> list[Target]:
    """Write `n_files` modules under `root/proj/...`; returns the query targets."""
    rng = random.Random(seed)
    targets: list[Target] = []
    seen: set[str] = set()
    while len(seen) < n_files:
        pkg, sub, mod = rng.choice(NOUNS), rng.choice(NOUNS + ["utils", "core", "contrib"]), \
            rng.choice(NOUNS) + rng.choice(["", "s", "_utils", "_base", "_backend"])
        path = f"proj/{pkg}/{sub}/{mod}.py"
        if path in seen:
            continue
        seen.add(path)
        text, found = generate_module(rng, path)
        file = root / path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(text)
        for init in (file.parent / "__init__.py", file.parent.parent / "__init__.py"):
            if not init.exists():
                init.write_text("")
        targets.extend(found)
    return targets


def make_query(t: Target, style: str, rng: random.Random) -> str:
    err = rng.choice(ERRORS)
    other = f"{rng.choice(NOUNS)} {rng.choice(NOUNS)}"
    if style == "exact":
        call = f"{t.cls}.{t.func}" if t.cls else t.func
        return (f"{call}() raises {err} for a {t.adj} {t.noun2}\n\nCalling `{call}` with a "
                f"{t.adj} {t.noun2} fails:\n\nTraceback (most recent call last):\n  File "
                f"\"app.py\", line {rng.randint(5, 300)}, in run\n    {t.func}({t.noun})\n"
                f"{err}: missing {t.noun}\n\nThis worked before the {other} change.")
    if style == "partial":
        return (f"{t.cls or t.noun.capitalize()} fails when {_gerund(t.verb)} a {t.adj} "
                f"{t.noun2}\n\nI use {t.cls or 'the ' + t.noun + ' module'} and "
                f"{_gerund(t.verb)} {t.noun}s with {t.adj} {t.noun2}s gives {err}. The "
                f"{other} docs say it should work.")
    return (f"{_gerund(t.verb).capitalize()} {t.noun}s drops {t.adj} {t.noun2}s\n\nWhen "
            f"{_gerund(t.verb)} a {t.noun} that has a {t.adj} {t.noun2}, the {t.noun2} is lost "
            f"and we get {err}. Expected the {t.noun2} to be {t.verb}d like the others "
            f"(as for the {other}).")


def generate_queries(targets: list[Target], n: int = 300,
                     seed: int = 1) -> list[tuple[str, str, str]]:
    """(query text, gold file, style) triples, styles in equal shares."""
    rng = random.Random(seed)
    picks = rng.sample(targets, min(n, len(targets)))
    styles = ("exact", "partial", "paraphrase")
    return [(make_query(t, styles[i % 3], rng), t.path, styles[i % 3])
            for i, t in enumerate(picks)]
