"""The ranking switches: chunk aggregation, path priors, issue mentions, fusion."""

import numpy as np

from swepipe.localize.file_ranking import RankingConfig, aggregate_files, file_priors, fuse, rank
from swepipe.localize.mentions import Definitions, defining_files, mentioned_files

FILES = ("django/db/models/query.py", "django/db/models/__init__.py", "django/forms/models.py",
         "docs/conf.py", "examples/demo.py", "setup.py", "django/utils/text.py",
         "astropy/io/fits/card.py", "sklearn/utils/validation.py", "sklearn/base.py")


def test_decayed_sum_lets_spread_evidence_beat_one_dense_chunk():
    file_ids = np.array([0, 1, 1, 1])
    scores = np.array([5.0, 3.0, 2.0, 2.0])
    best = aggregate_files(file_ids, scores, 2, decay=0.0)
    assert best.tolist() == [5.0, 3.0]  # the best chunk alone: file 0 wins
    spread = aggregate_files(file_ids, scores, 2, decay=0.5)
    assert spread.tolist() == [5.0, 3.0 + 1.0 + 0.5]  # best first: 3, 2 * 0.5, 2 * 0.25
    assert aggregate_files(np.zeros(0, int), np.zeros(0), 3, 0.5).tolist() == [0, 0, 0]


def test_non_library_paths_are_down_weighted_unless_switched_off():
    files = list(FILES)
    assert file_priors(files, "", RankingConfig(nonlib_weight=1)).tolist() == [1.0] * len(files)
    prior = file_priors(files, "", RankingConfig())  # the default: 0.5
    down = {f for f, p in zip(files, prior) if p == 0.5}
    assert down == {"docs/conf.py", "examples/demo.py", "setup.py"}


def test_mentioned_paths_traceback_frames_and_dotted_modules_are_found():
    text = '''Traceback (most recent call last):
  File "/usr/lib/python3/site-packages/django/db/models/query.py", line 12, in get
  File "/home/me/astropy/io/fits/card.py", line 3
see `sklearn.utils.validation.check_array` and
from django.utils import text
setup.py is fine, unknown/file.py is not ours, and django.nothing.here neither'''
    found = {FILES[i] for i in mentioned_files(text, FILES)}
    assert found == {"django/db/models/query.py", "astropy/io/fits/card.py",
                     "sklearn/utils/validation.py", "django/utils/text.py", "setup.py"}
    # a bare name matching many files, or the top-level package alone, names nothing
    many = tuple(f"pkg{i}/models.py" for i in range(5))
    assert mentioned_files("models.py and django.forms", many) == set()


def test_mentions_multiply_the_score_and_rank_orders_positive_scores():
    files = list(FILES)
    prior = file_priors(files, "see sklearn/base.py",
                        RankingConfig(mention_weight=1.0, nonlib_weight=1))
    assert prior[files.index("sklearn/base.py")] == 2.0 and prior.sum() == len(files) + 1
    assert rank(np.array([0.0, 2.0, 3.0, 2.0])).tolist() == [2, 1, 3]  # ties by index


def test_reciprocal_rank_fusion_rewards_agreement():
    fused = fuse([np.array([0, 1, 2]), np.array([1, 0])], 4, [1.0, 1.0], k=60)
    assert np.argmax(fused) in (0, 1) and fused[3] == 0 and fused[2] < fused[1]
    assert fused[0] == fused[1]  # ranks (1, 2) and (2, 1)


def test_defined_names_weigh_by_how_few_files_define_them():
    # chunks: symbol and file; `Cls` glue lines carry the class name, members `Cls.meth`
    symbols = ["StatReloader", "StatReloader.tick", "Expression", "Expression.compile",
               "as_sql", "as_sql", "as_sql", "as_sql", "helper", "helper", None, "Other.compile"]
    file_ids = np.array([0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    table = Definitions.of(symbols, file_ids)
    rows = set(table.frame.select("name", "qualified", "file", "n_files").iter_rows())
    assert {(f, n) for name, q, f, n in rows if name == "as_sql"} == {(2, 4), (3, 4), (4, 4),
                                                                     (5, 4)}
    assert ("Expression.compile", True, 1, 1) in rows and ("Expression", False, 1, 1) in rows
    assert ("StatReloader.tick", True, 0, 1) in rows
    text = "StatReloader restarts, Expression.compile('False') crashes; as_sql and helper too"
    w = defining_files(text, table, 10, weight=0.25, qualified_weight=0.5)
    assert w[0] == 0.25  # one file defines StatReloader
    assert w[1] == 0.5  # Expression (0.25) and Expression.compile (0.5): the best name counts
    assert w[2:6].tolist() == [0, 0, 0, 0]  # four files define as_sql: above max_files
    assert w[6] == w[7] == 0.125  # two files define helper: half the weight
    assert w[8] == w[9] == 0  # `compile` alone is not `Other.compile`
    off = defining_files(text, table, 10, weight=0.25, qualified_weight=0.0)
    assert off[1] == 0.25
    assert defining_files("", table, 10, weight=0.25, qualified_weight=0.5).sum() == 0
