"""Small units of the drift and governance_tools probes that fixtures exercise only in part."""

from __future__ import annotations

import pytest

from probes.drift import _choose, _target_of, plausible


@pytest.mark.parametrize("statistic,threshold,expected", [
    ("psi", 0.2, True), ("psi", 0.05, True), ("psi", 0.5, True), ("psi", 0.01, False), ("psi", 2.0, False),
    ("ks", 0.05, True), ("ks", 0.001, True), ("ks", 0.5, False), ("chi2", 0.0001, False), ("mmd", 0.05, True),
    ("js", 0.1, True), ("js", 0.6, False), ("js", 0.0, False),
    (None, 0.2, None), ("psi", None, None),
])
def test_plausible_ranges(statistic, threshold, expected):
    assert plausible(statistic, threshold) is expected


def test_an_implausible_threshold_wins_over_a_plausible_one():
    assert _choose([("psi", 0.2), ("ks", 0.5)]) == ("ks", 0.5, False)
    assert _choose([("psi", None), (None, 0.3)]) == ("psi", 0.3, None)
    assert _choose([("js", None)]) == ("js", None, None)


@pytest.mark.parametrize("url,expected", [
    ("https://api.github.com/repos/acme/churn/dispatches", ("repository_dispatch", "repository_dispatch")),
    ("https://api.github.com/repos/acme/churn/actions/workflows/retrain.yml/dispatches",
     ("workflow_dispatch_api", ".github/workflows/retrain.yml")),
    ("http://airflow:8080/api/v1/dags/retrain_churn/dagRuns", ("orchestrator_api", "dag:retrain_churn")),
    ("https://hooks.slack.com/services/T000/B000/XXXX", ("", "")),
])
def test_webhook_targets(url, expected):
    assert _target_of(url) == expected
