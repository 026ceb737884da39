import subprocess
import sys

import numpy as np

from swepipe.protocols import Embedder
from swepipe.repos.embedders import HashingEmbedder, stem

TEXTS = ["def parse_cookie(value):\n    return value", "class CookieParser:\n    pass",
         "totally unrelated words"]


def test_local_embedder_implements_the_protocol_with_unit_rows():
    e = HashingEmbedder()
    assert isinstance(e, Embedder)
    v = e.embed_sync(TEXTS)
    assert v.shape == (3, e.dim) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert np.allclose(e.embed_sync([""]), 0.0)


async def test_embed_is_async_and_equals_the_sync_result():
    e = HashingEmbedder()
    assert np.array_equal(await e.embed(TEXTS), e.embed_sync(TEXTS))


def test_vectors_are_identical_across_processes():
    code = ("from swepipe.repos.embedders import HashingEmbedder;"
            f"print(HashingEmbedder().embed_sync({TEXTS!r}).round(6).tolist())")
    runs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True, env={"PYTHONHASHSEED": seed}).stdout
            for seed in ("1", "2")}
    assert len(runs) == 1


def test_identifier_splitting_relates_camel_snake_and_inflections():
    e = HashingEmbedder().fit(TEXTS)
    q = e.embed_sync(["parsing cookies"])
    docs = e.embed_sync(TEXTS)
    scores = (docs @ q.T).ravel()
    assert scores[0] > 0.2 and scores[1] > 0.2 and scores[2] < 0.05


def test_stemmer_joins_inflections_only():
    assert {stem(w) for w in ("parse", "parses", "parsed", "parsing")} == {"pars"}
    assert stem("parser") != stem("parse")
    assert stem("queries") == stem("query") and stem("cookies") == stem("cookie")
    assert stem("class") == "class"
