"""Train XGBoost on the CPCV splits of `tm research model-table --xgboost` and write its test predictions.

The learner gap of issue 16: the same pooled rows, features, labels and purged splits as the project's pooled GBDT,
with the GBDT's parameters mapped to XGBoost's (rounds -> n_estimators, maxDepth -> max_depth, learningRate ->
learning_rate, lambda -> reg_lambda, minLeaf -> min_child_weight (squared loss: hessian 1 per row), subsample,
featureFraction -> colsample_bytree, maxBins -> max_bin; tree_method "hist", one thread, seeded).

Input folder (written by the TypeScript side): meta.json {rows, columns, seed, gbdt, splits: [{train: [...], test: [...]}]},
features.f64 (row-major float64, NaN = missing), target.f64 (float64). Output: predictions.f64, every split's test
predictions in split order (float64).

  python python/models/xgb_cpcv.py --dir <folder> [--missing learned|right]

--missing learned (default) is XGBoost's own handling (each split learns where missing values go); --missing right
replaces NaN by 1e30, so missing values always take the greater-than branch: the rule of the project's trees
(src/models), which isolates how much of the learner gap is missing-value handling.
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np
from xgboost import XGBRegressor


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", required=True, type=Path, help="folder with meta.json, features.f64, target.f64")
    parser.add_argument("--missing", choices=["learned", "right"], default="learned", help="missing values: XGBoost's learned direction, or always the greater-than branch")
    args = parser.parse_args(argv)
    meta = json.loads((args.dir / "meta.json").read_text())
    rows, columns = meta["rows"], meta["columns"]
    x = np.fromfile(args.dir / "features.f64", dtype="<f8").reshape(rows, columns)
    y = np.fromfile(args.dir / "target.f64", dtype="<f8")
    if y.shape[0] != rows:
        raise ValueError(f"target.f64 holds {y.shape[0]} values, meta.json says rows = {rows}")
    if args.missing == "right":
        x = np.where(np.isnan(x), 1e30, x)
    g = meta["gbdt"]
    out = []
    for k, split in enumerate(meta["splits"]):
        train = np.asarray(split["train"], dtype=np.int64)
        test = np.asarray(split["test"], dtype=np.int64)
        if not np.all(np.isfinite(y[train])):
            raise ValueError(f"split {k}: a training row has a non-finite target")
        model = XGBRegressor(
            n_estimators=g["rounds"],
            max_depth=g["maxDepth"],
            learning_rate=g["learningRate"],
            reg_lambda=g["lambda"],
            min_child_weight=g["minLeaf"],
            subsample=g["subsample"],
            colsample_bytree=g["featureFraction"],
            max_bin=g["maxBins"],
            tree_method="hist",
            random_state=meta["seed"] + k,
            n_jobs=1,
        )
        model.fit(x[train], y[train])
        out.append(model.predict(x[test]).astype("<f8"))
        print(f"split {k + 1}/{len(meta['splits'])}", file=sys.stderr, flush=True)
    np.concatenate(out).astype("<f8").tofile(args.dir / "predictions.f64")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Exception as e:  # noqa: BLE001 - one line for the caller
        print(f"xgb_cpcv: {e}", file=sys.stderr)
        sys.exit(1)
