"""How well the cheap rewards predict resolution, and a small model that predicts it.

Where the gold tests ran (`resolved` is known), each cheap reward is judged per stage and config by
its ROC AUC against the outcome (the probability that a resolving candidate scores higher than a
non-resolving one, ties counting half) and its Spearman rank correlation with it
(`queries/rewards/calibration_pairs.sql` says which pairs). A logistic regression of `resolved`
on the cheap generation rewards (standardized, L2 penalty 1.0, features missing for a candidate
take the training mean) is fitted on every candidate with a known outcome; its prediction for
every candidate is stored as the reward `predicted_resolved` (per candidate, and the mean per
instance), and its fit quality (in-sample AUC, 5-fold cross-validated AUC with folds grouped by
instance, log loss, Brier score) in `reward_models`.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from scipy.optimize import minimize
from scipy.stats import rankdata, spearmanr

from swepipe.store.sql_files import load_query
from swepipe.store.store import Store, insert_rows, registered

FEATURES = ("levenshtein_similarity", "swe_rl_similarity", "changed_line_coverage")
MODEL_NAME = "predicted_resolved"


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float | None:
    """ROC AUC by the rank-sum formula (ties count half); None without both classes."""
    pos = labels > 0.5
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    if n_pos == 0 or n_neg == 0:
        return None
    ranks = rankdata(scores)
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def spearman(x: np.ndarray, y: np.ndarray) -> float | None:
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return None
    return float(spearmanr(x, y).statistic)


def calibration_table(store: Store) -> pa.Table:
    """Per (stage, config, metric): n, positives, ROC AUC and Spearman against the outcome."""
    pairs = store.frame(load_query("rewards/calibration_pairs"))
    rows = []
    if pairs.height:
        for key, group in pairs.group_by(["stage", "config_hash", "metric"], maintain_order=True):
            x, y = group["value"].to_numpy(), group["target"].to_numpy()
            rows.append({"stage": key[0], "config_hash": key[1], "metric": key[2],
                         "n": len(x), "positives": int((y > 0.5).sum()),
                         "roc_auc": roc_auc(x, y), "spearman": spearman(x, y)})
    rows.sort(key=lambda r: (r["stage"], r["config_hash"], r["metric"]))
    schema = pa.schema([("stage", pa.string()), ("config_hash", pa.string()),
                        ("metric", pa.string()), ("n", pa.int64()), ("positives", pa.int64()),
                        ("roc_auc", pa.float64()), ("spearman", pa.float64())])
    return pa.Table.from_pylist(rows, schema=schema)


def _fit(x: np.ndarray, y: np.ndarray, l2: float = 1.0) -> np.ndarray:
    design = np.column_stack([np.ones(len(x)), x])

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        z = design @ w
        p = 1 / (1 + np.exp(-z))
        nll = np.sum(np.logaddexp(0, z) - y * z) + 0.5 * l2 * np.sum(w[1:] ** 2)
        grad = design.T @ (p - y) + l2 * np.r_[0, w[1:]]
        return float(nll), grad

    return minimize(loss, np.zeros(design.shape[1]), jac=True, method="L-BFGS-B").x


def _predict(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-(w[0] + x @ w[1:])))


@dataclass
class ModelFit:
    features: list[str]
    n_train: int
    n_positive: int
    auc: float | None
    cv_auc: float | None
    log_loss: float | None
    brier: float | None
    predictions: int

    def __str__(self) -> str:
        def f(v: float | None) -> str:
            return "n/a" if v is None else f"{v:.3f}"
        return (f"predicted_resolved: logistic on {', '.join(self.features) or 'nothing'}; "
                f"n={self.n_train} ({self.n_positive} resolved), AUC {f(self.auc)}, "
                f"CV AUC {f(self.cv_auc)}, log loss {f(self.log_loss)}, Brier {f(self.brier)}; "
                f"{self.predictions} candidates scored")


def fit_predicted_resolved(store: Store, folds: int = 5) -> ModelFit | None:
    """Fit the model, store `predicted_resolved` rewards and a `reward_models` row. None when
    there is no candidate with a known outcome of each class."""
    data = store.frame(load_query("rewards/model_features"))
    if data.height == 0:
        return None
    known = data.filter(data["resolved"].is_not_null())
    y = known["resolved"].to_numpy().astype(float)
    if known.height < 2 or y.min() == y.max():
        return None
    # a feature enters when most training rows have it; the others are noise from imputation
    features = [f for f in FEATURES if known[f].is_not_null().mean() >= 0.5]
    means = np.array([known[f].mean() for f in features], dtype=float)
    scales = np.array([known[f].std() or 1.0 for f in features], dtype=float)

    def matrix(frame) -> np.ndarray:  # noqa: ANN001 - a polars frame
        cols = [frame[f].fill_null(m).to_numpy().astype(float) for f, m in zip(features, means)]
        raw = np.column_stack(cols) if cols else np.zeros((frame.height, 0))
        return (raw - means) / scales

    x = matrix(known)
    w = _fit(x, y)
    p = np.clip(_predict(w, x), 1e-9, 1 - 1e-9)
    groups = np.array([zlib.crc32(i.encode()) % folds for i in known["instance_id"].to_list()])
    cv = np.full(len(y), np.nan)
    for k in range(folds):
        test = groups == k
        if test.any() and (~test).any() and len(set(y[~test])) == 2:
            cv[test] = _predict(_fit(x[~test], y[~test]), x[test])
    ok = ~np.isnan(cv)
    fit = ModelFit(features, len(y), int(y.sum()), roc_auc(p, y),
                   roc_auc(cv[ok], y[ok]) if ok.sum() > 1 else None,
                   float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))),
                   float(np.mean((p - y) ** 2)), data.height)
    pred = _predict(w, matrix(data))
    rows = pa.table({"instance_id": data["instance_id"].to_arrow(),
                     "stage": pa.array(["generate"] * data.height),
                     "config_hash": data["config_hash"].to_arrow(),
                     "sample_idx": data["sample_idx"].to_arrow(),
                     "metric": pa.array([MODEL_NAME] * data.height), "value": pa.array(pred)})
    with store.transaction() as conn:
        conn.execute(load_query("rewards/delete_metric"),
                     {"stage": "generate", "metric": MODEL_NAME, "config_hash": None})
        with registered(conn, _new=rows):
            per = conn.sql(load_query("rewards/per_instance")).to_arrow_table()
        insert_rows(conn, "rewards", per)
        insert_rows(conn, "reward_models", [{
            "name": MODEL_NAME, "target": "resolved", "features": features,
            "coefficients": [float(v) for v in w], "means": [float(v) for v in means],
            "scales": [float(v) for v in scales], "n_train": fit.n_train,
            "n_positive": fit.n_positive, "auc": fit.auc, "cv_auc": fit.cv_auc,
            "log_loss": fit.log_loss, "brier": fit.brier}])
    return fit
