"""Train scikit-learn and XGBoost regressors on a Parquet feature table and export them to ONNX.

Input: a Parquet table whose columns are, in order: ``ts``, ``symbol``, the feature columns (their order is the
model's input order), ``label``. Features must be finite (drop indicator warm-up rows first).

Output, in ``--output-dir``, per model NAME (``sklearn-random-forest``, ``sklearn-gradient-boosting``, ``xgboost``):
  NAME.onnx              ONNX model, input ``features`` float [N, d], one float output; metadata_props carry
                         ``feature_names`` (JSON array, ordered), ``feature_spec_hash``, ``model_kind``, ``seed``,
                         ``params`` (JSON) and ``trained_at`` when given, as trade-matrix's ``loadOnnxModel`` expects.
  NAME.predictions.json  Python onnxruntime's prediction for every table row (same row order as the table).
A JSON summary is printed to stdout.

Usage:
  python python/models/train_sklearn_xgb.py --input table.parquet --output-dir out/ --feature-spec-hash HASH [--seed 7]
Dependencies: python/requirements-models.txt.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pandas as pd
from onnxmltools import convert_xgboost
from onnxmltools.convert.common.data_types import FloatTensorType as XgbFloatTensorType
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType
from sklearn.ensemble import GradientBoostingRegressor, RandomForestRegressor
from xgboost import XGBRegressor

TARGET_OPSET = {"": 17, "ai.onnx.ml": 3}
INPUT_NAME = "features"


class FeatureTableError(ValueError):
    """The Parquet feature table does not have the documented layout."""


def read_feature_table(path: Path) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Returns (feature names in order, X float32 [n, d], y float64 [n]) from the Parquet table at ``path``."""
    table = pd.read_parquet(path, engine="pyarrow")
    columns = list(table.columns)
    if len(columns) < 4 or columns[0] != "ts" or columns[1] != "symbol" or columns[-1] != "label":
        raise FeatureTableError(f"columns must be ts, symbol, <features...>, label; were {columns}")
    feature_names = columns[2:-1]
    x = table[feature_names].to_numpy(dtype=np.float64)
    bad = np.argwhere(~np.isfinite(x))
    if bad.size:
        row, col = bad[0]
        raise FeatureTableError(f"feature {feature_names[col]!r} at row {row} must be finite, was {x[row, col]}")
    y = table["label"].to_numpy(dtype=np.float64)
    if not np.isfinite(y).all():
        row = int(np.argwhere(~np.isfinite(y))[0][0])
        raise FeatureTableError(f"label at row {row} must be finite, was {y[row]}")
    # Trees compare float32 features in ONNX; train on the same float32 values.
    return feature_names, x.astype(np.float32), y


def set_metadata(model: onnx.ModelProto, props: dict[str, str]) -> None:
    """Replaces ``metadata_props`` keys in ``props`` (other keys are kept)."""
    kept = [p for p in model.metadata_props if p.key not in props]
    del model.metadata_props[:]
    model.metadata_props.extend(kept)
    for key, value in props.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value


def to_onnx(name: str, estimator, d: int) -> onnx.ModelProto:
    """Converts a fitted estimator to ONNX with input ``features`` float [None, d]."""
    if name == "xgboost":
        return convert_xgboost(estimator, initial_types=[(INPUT_NAME, XgbFloatTensorType([None, d]))], target_opset=15)  # onnxmltools 1.16 converts xgboost up to opset 15
    return convert_sklearn(estimator, initial_types=[(INPUT_NAME, FloatTensorType([None, d]))], target_opset=TARGET_OPSET)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--input", required=True, type=Path, help="Parquet feature table")
    parser.add_argument("--output-dir", required=True, type=Path)
    parser.add_argument("--feature-spec-hash", required=True)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--trained-at", default=None, help="ISO 8601 training time recorded in the metadata")
    parser.add_argument("--rf-trees", type=int, default=50)
    parser.add_argument("--gbr-rounds", type=int, default=60)
    parser.add_argument("--xgb-rounds", type=int, default=200)
    parser.add_argument("--train-rows", type=int, default=0, help="train on a seeded random subset of this many rows (0 = all); predictions cover every row")
    args = parser.parse_args(argv)

    feature_names, x, y = read_feature_table(args.input)
    n, d = x.shape
    seed = args.seed
    train = np.arange(n)
    if 0 < args.train_rows < n:
        train = np.sort(np.random.default_rng(seed).choice(n, size=args.train_rows, replace=False))
    estimators = {
        "sklearn-random-forest": RandomForestRegressor(
            n_estimators=args.rf_trees, max_depth=12, min_samples_leaf=20, max_features=1 / 3, random_state=seed, n_jobs=2
        ),
        "sklearn-gradient-boosting": GradientBoostingRegressor(
            n_estimators=args.gbr_rounds, max_depth=3, learning_rate=0.05, subsample=0.8, random_state=seed
        ),
        "xgboost": XGBRegressor(
            n_estimators=args.xgb_rounds,
            max_depth=5,
            learning_rate=0.05,
            subsample=0.8,
            reg_lambda=1.0,
            tree_method="hist",
            max_bin=128,
            random_state=seed,
            n_jobs=2,
        ),
    }
    args.output_dir.mkdir(parents=True, exist_ok=True)
    summary = {"rows": n, "train_rows": int(train.size), "features": d, "models": []}
    for name, estimator in estimators.items():
        estimator.fit(x[train], y[train])
        model = to_onnx(name, estimator, d)
        props = {
            "feature_names": json.dumps(feature_names),
            "feature_spec_hash": args.feature_spec_hash,
            "model_kind": name,
            "seed": str(seed),
            "params": json.dumps({k: v for k, v in estimator.get_params().items() if isinstance(v, (int, float, str, bool)) or v is None}, sort_keys=True),
        }
        if args.trained_at:
            props["trained_at"] = args.trained_at
        set_metadata(model, props)
        onnx.checker.check_model(model)
        onnx_path = args.output_dir / f"{name}.onnx"
        onnx_path.write_bytes(model.SerializeToString())

        session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
        (output,) = session.run(None, {session.get_inputs()[0].name: x})
        predictions = np.asarray(output, dtype=np.float32).reshape(-1)
        native = np.asarray(estimator.predict(x), dtype=np.float64)
        predictions_path = args.output_dir / f"{name}.predictions.json"
        predictions_path.write_text(json.dumps({"model": name, "rows": n, "predictions": [float(v) for v in predictions]}))
        summary["models"].append(
            {
                "name": name,
                "onnx": str(onnx_path),
                "predictions": str(predictions_path),
                "input": session.get_inputs()[0].name,
                "output": session.get_outputs()[0].name,
                "opsets": {o.domain or "ai.onnx": o.version for o in model.opset_import},
                "max_abs_native_vs_onnx": float(np.max(np.abs(native - predictions))),
            }
        )
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except FeatureTableError as e:
        print(f"train_sklearn_xgb: {e}", file=sys.stderr)
        sys.exit(2)
