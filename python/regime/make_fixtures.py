"""Reference fixtures for src/regime/ (MS-GARCH filter) from `arch` and `statsmodels`.

Run from the repository root:

    .venv/bin/python python/regime/make_fixtures.py

Writes, deterministically (no randomness, fixed inputs, floats in repr precision, sorted keys;
byte-identical when rerun on one machine with the versions pinned in python/requirements-research.txt; on
another CPU OpenBLAS and numpy may pick other kernels and move the last bits: 1e-13 relative in the filters, up to
1e-6 in the cases arch's optimizer fits, see test/integration/regime-fixtures-reproducible.test.ts):

  test/fixtures/regime/garch-arch.json          K = 1: GARCH(1,1) with constant mean vs arch
  test/fixtures/regime/garch-t-arch.json        K = 1: GARCH(1,1)-t (Student-t innovations, nu estimated) vs arch
  test/fixtures/regime/ms2-statsmodels.json     K = 2: switching mean + variance, no GARCH, vs statsmodels MarkovRegression
  test/fixtures/regime/hamilton-gnp.json        Hamilton (1989) 2-state AR(4) on rgnp vs statsmodels MarkovAutoregression
  test/fixtures/regime/newey-west-ic-statsmodels.json  Spearman IC with a Newey-West (HAC) standard error: OLS of rank(y) on
                                                rank(x) with statsmodels cov_type='HAC' (src/training/stats.ts)
  test/fixtures/regime/boruta-binomial-scipy.json  Boruta's two-sided binomial test (src/training/boruta.ts): scipy.stats.binom
                                                tails and decisions at the boundary hit counts (kept here so the
                                                reproducibility test covers it)

Data: log returns of binance-spot BTCUSDT 4h closes from ${TM_SHARED_DATA:-../shared/data}, bars with
ts in [2024-01-01T00:00Z, 2025-08-31T20:00Z], r_t = 100 * (ln close_t - ln close_{t-1}) between consecutive rows
(percent log returns: arch prefers data scaled to O(1)).
"""

from __future__ import annotations

import ast
import gzip
import json
import math
import os
import pathlib
import sys

import arch
import numpy as np
import scipy
import scipy.special
from scipy.stats import binom, rankdata
import statsmodels
import statsmodels.api as sm
from arch import arch_model

ROOT = pathlib.Path(__file__).resolve().parents[2]
# TM_FIXTURE_OUT lets a test regenerate into a temp folder and compare with the committed files.
OUT = pathlib.Path(os.environ.get("TM_FIXTURE_OUT", str(ROOT / "test" / "fixtures" / "regime")))
SHARED = pathlib.Path(os.environ.get("TM_SHARED_DATA", str(ROOT / ".." / "shared" / "data")))
BTC_FILE = SHARED / "binance-spot" / "BTCUSDT-4h.csv.gz"
FROM_TS = "2024-01-01T00:00:00Z"
TO_TS = "2025-08-31T20:00:00Z"
SCALE = 100.0


def versions() -> dict[str, str]:
    return {
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "statsmodels": statsmodels.__version__,
        "arch": arch.__version__,
    }


def load_btc_returns() -> tuple[list[str], np.ndarray]:
    ts: list[str] = []
    closes: list[float] = []
    with gzip.open(BTC_FILE, "rt") as fh:
        header = fh.readline().strip().split(",")
        if header != ["ts", "open", "high", "low", "close", "volume"]:
            raise SystemExit(f"{BTC_FILE}: unexpected header {header}")
        for line in fh:
            cols = line.rstrip("\n").split(",")
            if FROM_TS <= cols[0] <= TO_TS:
                ts.append(cols[0])
                closes.append(float(cols[4]))
    c = np.asarray(closes, dtype=float)
    r = SCALE * np.diff(np.log(c))
    return ts[1:], r


def btc_data(ts: list[str], r: np.ndarray) -> dict:
    return {"source": "binance-spot/BTCUSDT-4h.csv.gz", "from": ts[0], "to": ts[-1], "scale": SCALE, "returns": [float(x) for x in r]}


def write(name: str, payload: dict) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    text = json.dumps(payload, sort_keys=True, allow_nan=False) + "\n"
    (OUT / name).write_text(text)
    print(f"wrote {OUT / name} ({len(text)} bytes)")


def arch_backcast(resids: np.ndarray) -> float:
    """arch's GARCH backcast: EWMA(0.94) weights over the first min(75, n) squared residuals, normalised."""
    tau = min(75, resids.shape[0])
    w = 0.94 ** np.arange(tau)
    w = w / sum(w)
    return float(np.sum((resids[:tau] ** 2.0) * w))


def checked_variance(model, res, r: np.ndarray, params: np.ndarray, label: str) -> tuple[np.ndarray, float]:
    """arch's conditional variances and backcast, checked against an independent numpy recursion."""
    sigma2 = np.asarray(res.conditional_volatility, dtype=float) ** 2
    # arch backcasts from residuals at the mean model's *starting values* (the sample mean), not at params' mu.
    backcast = arch_backcast(r - r.mean())
    assert backcast == model._backcast, (backcast, model._backcast)
    # Independent numpy recursion: proves arch's variance bounds did not bind for these params.
    mu, omega, alpha, beta = params
    e = r - mu
    h = np.empty_like(r)
    prev_e2, prev_h = backcast, backcast
    for t in range(r.shape[0]):
        h[t] = omega + alpha * prev_e2 + beta * prev_h
        prev_e2, prev_h = e[t] ** 2, h[t]
    assert np.allclose(h, sigma2, rtol=1e-12, atol=0), f"{label}: arch variance bounds bound"
    return sigma2, backcast


def garch_case(r: np.ndarray, params: np.ndarray, label: str) -> dict:
    model = arch_model(r, mean="Constant", vol="GARCH", p=1, q=1, dist="normal", rescale=False)
    res = model.fix(params)
    sigma2, backcast = checked_variance(model, res, r, params[:4], label)
    mu, omega, alpha, beta = params
    return {
        "label": label,
        "params": {"mu": float(mu), "omega": float(omega), "alpha": float(alpha), "beta": float(beta)},
        "backcast": backcast,
        "loglikelihood": float(res.loglikelihood),
        "conditional_variance": [float(x) for x in sigma2],
    }


def make_garch(ts: list[str], r: np.ndarray) -> None:
    model = arch_model(r, mean="Constant", vol="GARCH", p=1, q=1, dist="normal", rescale=False)
    fitted = model.fit(disp="off", options={"ftol": 1e-12, "maxiter": 1000})
    fitted_params = np.asarray(fitted.params, dtype=float)
    cases = [
        garch_case(r, np.array([0.02, 0.05, 0.08, 0.9]), "given"),
        garch_case(r, fitted_params, "arch-fitted"),
    ]
    write(
        "garch-arch.json",
        {
            "description": "GARCH(1,1), constant mean, normal: arch_model(r, mean='Constant', vol='GARCH', p=1, q=1, "
            "dist='normal', rescale=False).fix(params). Variance recursion h_t = omega + alpha*e_{t-1}^2 + beta*h_{t-1}, "
            "e = r - mu, with e_{-1}^2 = h_{-1} = backcast; backcast = sum_{i<75} w_i (r_i - mean(r))^2, w_i ~ 0.94^i "
            "normalised. The 'arch-fitted' case holds arch's own MLE (SLSQP), so its loglikelihood is a lower bound "
            "for a K = 1 fit.",
            "data": btc_data(ts, r),
            "cases": cases,
            "versions": versions(),
        },
    )


def garch_t_case(r: np.ndarray, params: np.ndarray, label: str) -> dict:
    model = arch_model(r, mean="Constant", vol="GARCH", p=1, q=1, dist="t", rescale=False)
    res = model.fix(params)
    sigma2, backcast = checked_variance(model, res, r, params[:4], label)
    mu, omega, alpha, beta, nu = params
    e = r - mu
    h = sigma2
    # Independent log-likelihood (scipy gammaln): the unit-variance Student-t density arch's StudentsT uses.
    ll = np.sum(
        scipy.special.gammaln((nu + 1) / 2)
        - scipy.special.gammaln(nu / 2)
        - 0.5 * np.log(np.pi * (nu - 2))
        - 0.5 * np.log(h)
        - (nu + 1) / 2 * np.log1p(e**2 / ((nu - 2) * h))
    )
    assert math.isclose(ll, float(res.loglikelihood), rel_tol=1e-10), (ll, res.loglikelihood)
    return {
        "label": label,
        "params": {"mu": float(mu), "omega": float(omega), "alpha": float(alpha), "beta": float(beta), "nu": float(nu)},
        "backcast": backcast,
        "loglikelihood": float(res.loglikelihood),
        "conditional_variance": [float(x) for x in sigma2],
    }


def make_garch_t(ts: list[str], r: np.ndarray) -> None:
    model = arch_model(r, mean="Constant", vol="GARCH", p=1, q=1, dist="t", rescale=False)
    fitted = model.fit(disp="off", cov_type="classic", options={"ftol": 1e-12, "maxiter": 1000})
    fitted_params = np.asarray(fitted.params, dtype=float)
    assert list(fitted.params.index) == ["mu", "omega", "alpha[1]", "beta[1]", "nu"], list(fitted.params.index)
    cases = [
        garch_t_case(r, np.array([0.02, 0.05, 0.08, 0.9, 4.0]), "given"),
        garch_t_case(r, fitted_params, "arch-fitted"),
    ]
    # classic (inverse-Hessian) standard errors of arch's MLE, for the fit diagnostics
    cases[1]["std_err_classic"] = {name: float(fitted.std_err.iloc[i]) for i, name in enumerate(["mu", "omega", "alpha", "beta", "nu"])}
    write(
        "garch-t-arch.json",
        {
            "description": "GARCH(1,1), constant mean, Student-t innovations with unit variance: arch_model(r, mean='Constant', "
            "vol='GARCH', p=1, q=1, dist='t', rescale=False).fix([mu, omega, alpha, beta, nu]). Log density "
            "lgamma((nu+1)/2) - lgamma(nu/2) - log(pi (nu-2))/2 - log(h)/2 - (nu+1)/2 log(1 + e^2/((nu-2) h)); variance "
            "recursion and backcast as garch-arch.json. The 'arch-fitted' case holds arch's own MLE (SLSQP, nu in "
            "[2.05, 500]), so its loglikelihood is a lower bound for a K = 1 t fit; std_err_classic are arch's "
            "inverse-Hessian standard errors there (fit(cov_type='classic')).",
            "data": btc_data(ts, r),
            "cases": cases,
            "versions": versions(),
        },
    )


def make_boruta_binomial() -> None:
    """Boundary hit counts of Boruta's two-sided binomial test, X ~ Binomial(N, 1/2), each tail at alpha/2 (/ d)."""
    cases = []
    for n in (10, 20, 30, 50, 100, 200):
        for alpha, features in ((0.05, 1), (0.05, 31), (0.01, 9)):
            level = alpha / 2 / features
            # confirm: smallest k with P(X >= k) <= level; reject: largest k with P(X <= k) <= level (None if none)
            confirm = next((k for k in range(n + 1) if binom.sf(k - 1, n, 0.5) <= level), None)
            reject = next((k for k in range(n, -1, -1) if binom.cdf(k, n, 0.5) <= level), None)
            points = []
            for k in sorted({0, n, *(x for b in (confirm, reject) if b is not None for x in (b - 1, b, b + 1) if 0 <= x <= n)}):
                upper = float(binom.sf(k - 1, n, 0.5))
                lower = float(binom.cdf(k, n, 0.5))
                decision = "confirmed" if upper <= level else "rejected" if lower <= level else "tentative"
                points.append({"hits": k, "upper_tail": upper, "lower_tail": lower, "decision": decision})
            cases.append({"iterations": n, "alpha": alpha, "features": features, "tail_level": level, "confirm_min_hits": confirm, "reject_max_hits": reject, "points": points})
    write(
        "boruta-binomial-scipy.json",
        {
            "description": "Boruta's two-sided binomial test (src/training/boruta.ts): hits of a feature over N iterations against "
            "X ~ Binomial(N, 1/2); upper_tail = P(X >= hits) = scipy.stats.binom.sf(hits - 1, N, 0.5), lower_tail = P(X <= hits) = "
            "binom.cdf(hits, N, 0.5); decision 'confirmed' if upper_tail <= tail_level, else 'rejected' if lower_tail <= "
            "tail_level, else 'tentative'; tail_level = alpha / 2 / features (Bonferroni; features = 1 without). Points: 0, N "
            "and the boundary hit counts +-1.",
            "cases": cases,
            "versions": versions(),
        },
    )


def make_newey_west(ts: list[str], r: np.ndarray) -> None:
    """Overlapping 6-bar momentum vs the next 6-bar return of the BTC series: ranks regressed with a HAC covariance."""
    h = 6
    csum = np.concatenate([[0.0], np.cumsum(r)])
    t = np.arange(h, r.shape[0] - h)
    x = csum[t] - csum[t - h]  # r[t-h..t-1]
    y = csum[t + h] - csum[t]  # r[t..t+h-1]
    rx, ry = rankdata(x), rankdata(y)
    cases = []
    for lags in (0, 5, 12):
        fit = sm.OLS(ry, sm.add_constant(rx)).fit(cov_type="HAC", cov_kwds={"maxlags": lags, "use_correction": False}, use_t=False)
        cases.append({"lags": lags, "slope": float(fit.params[1]), "standard_error": float(fit.bse[1]), "z": float(fit.tvalues[1]), "p_value": float(fit.pvalues[1])})
    write(
        "newey-west-ic-statsmodels.json",
        {
            "description": "Spearman IC of x (sum of the previous 6 percent log returns) vs y (sum of the next 6), overlapping labels, "
            "with a Newey-West standard error: statsmodels OLS(rankdata(y), add_constant(rankdata(x))).fit(cov_type='HAC', "
            "cov_kwds={'maxlags': L, 'use_correction': False}, use_t=False); Bartlett weights 1 - l/(L+1); the slope of ranks "
            "on ranks is the Spearman IC (no ties); p_value two-sided normal.",
            "data": {"source": "binance-spot/BTCUSDT-4h.csv.gz", "from": ts[0], "to": ts[-1], "x": [float(v) for v in x], "y": [float(v) for v in y]},
            "cases": cases,
            "versions": versions(),
        },
    )


def make_ms2(ts: list[str], r: np.ndarray) -> None:
    model = sm.tsa.MarkovRegression(r, k_regimes=2, trend="c", switching_variance=True)
    names = list(model.param_names)
    assert names == ["p[0->0]", "p[1->0]", "const[0]", "const[1]", "sigma2[0]", "sigma2[1]"], names
    cases = []
    given = np.array([0.97, 0.06, 0.03, -0.08, 0.6, 3.5])
    fitted = model.fit(disp=False, search_reps=0)
    for label, params in (("given", given), ("statsmodels-fitted", np.asarray(fitted.params, dtype=float))):
        res = model.smooth(params)
        # statsmodels' transition matrix: column j = distribution of s_t given s_{t-1} = j (left stochastic).
        left = model.regime_transition_matrix(params)[:, :, 0]
        cases.append(
            {
                "label": label,
                "param_names": names,
                "params": [float(x) for x in params],
                "transition_row_stochastic": [[float(left[j, i]) for j in range(2)] for i in range(2)],
                "initial_probabilities": [float(x) for x in model.initial_probabilities(params)],
                "loglikelihood": float(model.loglike(params)),
                "filtered_regime0": [float(x) for x in np.asarray(res.filtered_marginal_probabilities)[:, 0]],
            }
        )
        if label == "given":
            cases[-1]["predicted_regime0"] = [float(x) for x in np.asarray(res.predicted_marginal_probabilities)[:, 0]]
            cases[-1]["smoothed_regime0"] = [float(x) for x in np.asarray(res.smoothed_marginal_probabilities)[:, 0]]
    write(
        "ms2-statsmodels.json",
        {
            "description": "2-state Markov-switching Gaussian with switching mean and variance (no GARCH): "
            "statsmodels MarkovRegression(r, k_regimes=2, trend='c', switching_variance=True), default "
            "'steady-state' (ergodic) initial distribution; .smooth(params) for the filtered (both cases) and "
            "predicted/smoothed ('given' case) marginal probability of regime 0 per bar, .loglike(params). statsmodels p[i->j] = P(s_t = j | s_{t-1} = i); "
            "transition_row_stochastic[i][j] = P(s_t = j | s_{t-1} = i). The 'statsmodels-fitted' case holds "
            "statsmodels' own MLE.",
            "data": btc_data(ts, r),
            "cases": cases,
            "versions": versions(),
        },
    )


def load_rgnp() -> list[float]:
    """Hamilton's (1989) rgnp series as shipped inside statsmodels' test module (read with ast: no pytest needed)."""
    path = pathlib.Path(statsmodels.__file__).parent / "tsa" / "regime_switching" / "tests" / "test_markov_autoregression.py"
    tree = ast.parse(path.read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "rgnp":
            return [float(x) for x in ast.literal_eval(node.value)]
    raise SystemExit(f"rgnp not found in {path}")


def make_gnp() -> None:
    y = np.asarray(load_rgnp())
    model = sm.tsa.MarkovAutoregression(y, k_regimes=2, order=4, switching_ar=False)
    names = list(model.param_names)
    assert names == ["p[0->0]", "p[1->0]", "const[0]", "const[1]", "sigma2", "ar.L1", "ar.L2", "ar.L3", "ar.L4"], names
    params = np.r_[0.754673, 0.095915, -0.358811, 1.163516, np.exp(-0.262658) ** 2, 0.013486, -0.057521, -0.246983, -0.212923]
    res = model.smooth(params)
    llf = float(model.loglike(params))
    assert math.isclose(llf, -181.26339, abs_tol=1e-5), llf
    write(
        "hamilton-gnp.json",
        {
            "description": "Hamilton (1989) 2-state AR(4) with switching mean on US real GNP growth (rgnp, as shipped in "
            "statsmodels' tests): y_t - mu_{s_t} = sum_{i=1..4} phi_i (y_{t-i} - mu_{s_{t-i}}) + e_t, e_t ~ N(0, sigma2); "
            "statsmodels MarkovAutoregression(y, k_regimes=2, order=4, switching_ar=False) at the published (E-views) "
            "parameters; likelihood over y[4:], ergodic initial distribution of the joint (s_t..s_{t-4}) chain. "
            "Published log-likelihood -181.26339.",
            "rgnp": [float(x) for x in y],
            "param_names": names,
            "params": [float(x) for x in params],
            "published_loglikelihood": -181.26339,
            "loglikelihood": llf,
            "filtered": [[float(x) for x in row] for row in np.asarray(res.filtered_marginal_probabilities)],
            "smoothed": [[float(x) for x in row] for row in np.asarray(res.smoothed_marginal_probabilities)],
            "filtered_comment": "rows t = 0..130 (y[4:]), columns regime 0, 1",
            "versions": versions(),
        },
    )


def main() -> None:
    ts, r = load_btc_returns()
    make_garch(ts, r)
    make_garch_t(ts, r)
    make_newey_west(ts, r)
    make_ms2(ts, r)
    make_gnp()
    make_boruta_binomial()


if __name__ == "__main__":
    main()
