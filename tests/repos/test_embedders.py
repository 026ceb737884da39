import subprocess
import sys
from pathlib import Path

import numpy as np

from swepipe.repos.embedders import HashingEmbedder, HashingEmbedderConfig, stem
from swepipe.repos.lexical import Bm25Params, bm25_scores, concat_rows

TEXTS = ["def parse_cookie(value):\n    return value", "class CookieParser:\n    pass",
         "totally unrelated words"]


def row(rows, i):
    a, z = rows.indptr[i], rows.indptr[i + 1]
    return dict(zip(rows.buckets[a:z].tolist(), rows.weights[a:z].tolist()))


def test_features_are_sparse_sorted_rows_and_empty_text_has_none():
    rows = HashingEmbedder().features([*TEXTS, ""])
    assert rows.n_rows == 4 and rows.indptr[-1] == len(rows.buckets) == len(rows.weights)
    for i in range(3):
        b = rows.buckets[rows.indptr[i]: rows.indptr[i + 1]]
        assert len(b) > 0 and np.all(np.diff(b.astype(np.int64)) > 0)
    assert rows.indptr[4] == rows.indptr[3]
    assert rows.buckets.max() < 1 << HashingEmbedderConfig().buckets_log2


def test_a_texts_row_does_not_depend_on_the_texts_featurized_with_it():
    # an index build featurizes its chunks in parts on worker processes: the float32 sums of a
    # bucket hit by several identifiers must come out the same as in one call
    source = Path(__file__).resolve().parents[2] / "src" / "swepipe"
    texts = [p.read_text() for p in sorted(source.rglob("*.py"))]
    embedder = HashingEmbedder()
    whole = embedder.features(texts)
    parts = concat_rows([embedder.features(texts[a:b]) for a, b in
                         zip([0, 1, 7, 30], [1, 7, 30, len(texts)])])
    for name in ("indptr", "buckets", "weights"):
        assert np.array_equal(getattr(whole, name), getattr(parts, name)), name


def test_features_are_identical_across_processes():
    code = ("from swepipe.repos.embedders import HashingEmbedder;"
            f"r = HashingEmbedder().features({TEXTS!r});"
            "print(r.buckets.tolist(), r.weights.round(6).tolist())")
    runs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True, env={"PYTHONHASHSEED": seed}).stdout
            for seed in ("1", "2")}
    assert len(runs) == 1


def test_identifier_splitting_relates_camel_snake_and_inflections():
    e = HashingEmbedder()
    docs, query = e.features(TEXTS), e.features(["parsing cookies"])
    q = row(query, 0)
    # the query's postings in each document, scored by the index's BM25
    terms, doc, tf = [], [], []
    ids = {b: j for j, b in enumerate(q)}
    for i in range(docs.n_rows):
        for b, w in row(docs, i).items():
            if b in ids:
                terms.append(ids[b]), doc.append(i), tf.append(w)
    scores = bm25_scores(np.array(terms, dtype=np.int64), np.array(doc, dtype=np.int64),
                         np.array(tf), np.ones(len(q)), docs.lengths(), Bm25Params())
    assert scores[0] > 0 and scores[1] > 0 and scores[2] == 0


def test_trigrams_only_when_weighted():
    plain = HashingEmbedder(HashingEmbedderConfig(ngram_weight=0.0)).features(["cookies"])
    grams = HashingEmbedder(HashingEmbedderConfig(ngram_weight=0.35)).features(["cookies"])
    assert len(plain.buckets) == 1 and len(grams.buckets) > 1


def test_stemmer_joins_inflections_only():
    assert {stem(w) for w in ("parse", "parses", "parsed", "parsing")} == {"pars"}
    assert stem("parser") != stem("parse")
    assert stem("queries") == stem("query") and stem("cookies") == stem("cookie")
    assert stem("class") == "class"
