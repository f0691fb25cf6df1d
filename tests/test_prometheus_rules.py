"""Which rule files a Prometheus server loads (shared by the ops and model_signals probes)."""

from __future__ import annotations

import pytest

from probes._prometheus import loaded, rule_groups
from scanner.facts.yamldoc import load_all

SERVER = [("monitoring/prometheus.yml", ["/etc/prometheus/rules/*.yml"])]


@pytest.mark.parametrize(("path", "configs", "expected"), [
    ("monitoring/rules/churn.yml", SERVER, True),  # the glob's last two segments end the path
    ("monitoring/legacy/gpu.yml", SERVER, False),  # same file name pattern, another folder
    ("monitoring/rules/churn.yml", [("monitoring/prometheus.yml", ["rules/*.yml"])], True),  # relative to the config
    ("monitoring/rules/churn.yml", [("monitoring/prometheus.yml", ["./rules/*.yml"])], True),
    ("ops/alerts.yml", [("deploy/prometheus/prometheus.yml", ["../../ops/*.yml"])], True),
    ("ops/alerts.yml", [("monitoring/prometheus.yml", [])], False),
    ("ops/alerts.yml", [], None),  # no server config in the repository: cannot tell
])
def test_loaded(path, configs, expected):
    assert loaded(path, configs) is expected


def test_rule_groups_of_a_rule_file_and_a_prometheus_rule():
    rule_file, = load_all("groups:\n  - name: model\n    rules:\n      - alert: Stale\n        expr: up == 0\n")
    found = rule_groups(rule_file)
    assert found is not None and found.source == "prometheus" and found.name == "" and found.lines == (1, 5)
    resource, = load_all("apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata:\n  name: churn\n"
                         "spec:\n  groups:\n    - name: g\n      rules: []\n")
    found = rule_groups(resource)
    assert found is not None and found.source == "prometheus_operator" and found.name == "churn"
    assert rule_groups(load_all("groups: [a, b]\n")[0]) is None  # groups without rules: not a rule file
