"""Operations: dependency updates, metrics, alert rules and routing, failure notices, dashboards.

Covers the repository side of RUBRIC §3.4: MO-b (job failure notification), MO-c (dependency
change notification), MO-d (service metrics instrumentation), MO-f/MO-k (alert rules, drift
alerts, routing to a receiver), MO-g (dashboards as code), MO-n (numerical stability checks) and
MO-q (runbooks). Health routes and Kubernetes probes (MO-a) belong to the serving probe
(``serving.app.health_route``, ``serving.k8s_workload``) and are not repeated here.

Anti-gaming (RUBRIC §2.3): an alert route without a receiver that has a channel, a rule file that
the repository's Prometheus config does not load, a disabled Renovate config, Dependabot entries
that may open no pull requests, and notifications in disabled jobs are all downgraded.
"""

from __future__ import annotations

import json
import posixpath
import re
from typing import Any, Iterable, Iterator, Literal, Optional

from scanner.facts.python import PyFile
from scanner.facts.yamldoc import YList, YMap
from scanner.facts.yamldoc import dig as _dig
from scanner.facts.yamldoc import entry_span as _key_span
from scanner.facts.yamldoc import span as _span
from scanner.models import Evidence, Strength
from scanner.patterns import lazy
from scanner.probe import Attributes, Kind, Probe, ProbeContext

from ._prometheus import loaded, rule_file_globs, rule_groups

# --------------------------------------------------------------------------------------------
# attribute models
# --------------------------------------------------------------------------------------------


class DependencyUpdates(Attributes):
    tool: Literal["dependabot", "renovate"]
    ecosystems: list[str]


class MetricsInstrumentation(Attributes):
    library: Literal[
        "prometheus_client", "prometheus_fastapi_instrumentator", "prometheus_flask_exporter",
        "starlette_exporter", "opentelemetry", "statsd", "servicemonitor",
    ]
    metrics: list[str]


class AlertRules(Attributes):
    rules: int
    alerts: list[str]
    drift_related: bool
    format: Literal["prometheus", "prometheus_operator"]
    loaded: Optional[bool] = None  # listed in the repository's prometheus.yml rule_files; None: no config here


class AlertRouting(Attributes):
    receivers: list[str]
    channels: list[str]
    routed: bool


class FailureNotification(Attributes):
    system: str
    job: str
    channel: str


class Dashboards(Attributes):
    tool: Literal["grafana"]
    dashboards: int
    panels: int = 0


class NumericChecks(Attributes):
    checks: list[str]


class Runbook(Attributes):
    path: str
    source: Literal["file", "alert_annotation"] = "file"


# --------------------------------------------------------------------------------------------
# shared helpers
# --------------------------------------------------------------------------------------------

_TEST_PATH = lazy(r"(?:^|/)(?:tests?|testing)/|(?:^|/)test_[^/]*\.py$|_test\.py$|(?:^|/)conftest\.py$")
_YAML = lazy(r"\.ya?ml$|\.rules$")
_MAX_ITEMS = 200
_MAX_DEPTH = 12


def _is_test(path: str) -> bool:
    return bool(_TEST_PATH.search(path))


def _roots(pyfile: PyFile) -> set[str]:
    """Top-level packages a file imports: a cheap gate before walking its calls."""
    return {i.module.split(".", 1)[0] for i in pyfile.imports}


def _whole(ctx: ProbeContext, path: str) -> tuple[int, int]:
    return 1, max(1, len(ctx.facts.lines(path) or []))


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


# --------------------------------------------------------------------------------------------
# ops.dependency_updates
# --------------------------------------------------------------------------------------------

_DEPENDABOT = lazy(r"^\.github/dependabot\.ya?ml$")
_RENOVATE = lazy(r"^(?:\.github/|\.gitlab/)?(?:renovate\.json5?|\.renovaterc(?:\.json5?)?)$")


def _dependabot(ctx: ProbeContext, path: str) -> Iterator[Evidence]:
    docs = ctx.facts.yaml(path)
    if docs is None:  # unreadable or malformed: the reason is in facts.problems
        yield ctx.unknown("ops.dependency_updates", ctx.facts.problems.get(path, "unreadable"), path=path)
        return
    doc = next((d for d in docs if d is not None), None)
    if doc is None:
        return  # empty or entirely commented out: nothing configured
    if not isinstance(doc, dict):
        yield ctx.unknown("ops.dependency_updates", "dependabot.yml is not a mapping", path=path)
        return
    updates = [u for u in (doc.get("updates") or []) if isinstance(u, dict)] if isinstance(doc.get("updates"), list) else []
    ecosystems = sorted({str(u["package-ecosystem"]) for u in updates if u.get("package-ecosystem")})
    downgrades = []
    if doc.get("version") != 2:
        downgrades.append("dependabot.yml is not version 2, so GitHub ignores it")
    if not ecosystems:
        downgrades.append("dependabot.yml lists no package-ecosystem updates")
    elif all(u.get("open-pull-requests-limit") == 0 for u in updates):
        downgrades.append("open-pull-requests-limit: 0 disables version update pull requests")
    attrs = DependencyUpdates(tool="dependabot", ecosystems=ecosystems)
    lines = _key_span(doc, "updates") if "updates" in doc else _span(doc)
    yield ctx.evidence("ops.dependency_updates", attrs, path=path, lines=lines,
                       strength=Strength.mention if downgrades else Strength.configured, downgrades=downgrades)


def _renovate(ctx: ProbeContext, path: str) -> Iterator[Evidence]:
    text = ctx.facts.text(path)
    if text is None:
        yield ctx.unknown("ops.dependency_updates", ctx.facts.problems.get(path, "unreadable"), path=path)
        return
    if path.endswith(".json5"):
        try:
            doc = json.loads(text)
        except ValueError:
            yield ctx.unknown("ops.dependency_updates",
                              "renovate.json5 uses JSON5 syntax, which mlscan does not parse", path=path)
            return
    else:
        doc = ctx.facts.json(path)
        if doc is None:
            yield ctx.unknown("ops.dependency_updates", ctx.facts.problems.get(path, "malformed JSON"), path=path)
            return
    if not isinstance(doc, dict):
        yield ctx.unknown("ops.dependency_updates", "renovate config is not a JSON object", path=path)
        return
    managers = doc.get("enabledManagers")
    ecosystems = sorted({str(m) for m in managers}) if isinstance(managers, list) and managers else ["all"]
    downgrades = ["renovate is disabled (enabled: false)"] if doc.get("enabled") is False else []
    attrs = DependencyUpdates(tool="renovate", ecosystems=ecosystems)
    yield ctx.evidence("ops.dependency_updates", attrs, path=path, lines=_whole(ctx, path),
                       strength=Strength.mention if downgrades else Strength.configured, downgrades=downgrades)


# --------------------------------------------------------------------------------------------
# ops.metrics_instrumentation
# --------------------------------------------------------------------------------------------

_PROM_TYPES = ("Counter", "Histogram", "Gauge", "Summary", "Info", "Enum")
_LIBRARY_CALLS = {
    "prometheus_fastapi_instrumentator.Instrumentator": "prometheus_fastapi_instrumentator",
    "prometheus_flask_exporter.PrometheusMetrics": "prometheus_flask_exporter",
    "starlette_exporter.PrometheusMiddleware": "starlette_exporter",
}
_METRIC_ROOTS = frozenset({"prometheus_client", "prometheus_fastapi_instrumentator", "prometheus_flask_exporter",
                           "starlette_exporter", "opentelemetry", "statsd", "datadog"})
_OTEL_CREATE = lazy(r"^create_(?:counter|histogram|up_down_counter|gauge|observable_\w+)$")
_STATSD_ATTRS = frozenset({"incr", "increment", "decr", "decrement", "timing", "timer", "gauge", "histogram",
                           "distribution", "set"})


def _metric_calls(pyfile: PyFile) -> dict[str, tuple[set[str], list[int]]]:
    """library -> (metric names, lines) for one file."""
    found: dict[str, tuple[set[str], list[int]]] = {}

    def add(library: str, name: Any, line: int) -> None:
        names, lines = found.setdefault(library, (set(), []))
        if isinstance(name, str) and name:
            names.add(name)
        lines.append(line)

    otel = pyfile.imports_module("opentelemetry")
    statsd = pyfile.imports_module("statsd") or pyfile.imports_module("datadog")
    for call in pyfile.calls:
        first = call.literal_args[0] if call.literal_args else call.kwarg("name")
        if call.name in (f"prometheus_client.{t}" for t in _PROM_TYPES) or call.name.startswith("prometheus_client.metrics."):
            if call.attr in _PROM_TYPES:
                add("prometheus_client", first, call.line)
        elif call.name in _LIBRARY_CALLS:
            add(_LIBRARY_CALLS[call.name], None, call.line)
        elif otel and (_OTEL_CREATE.match(call.attr) or call.name.startswith("opentelemetry.instrumentation.")):
            add("opentelemetry", first if _OTEL_CREATE.match(call.attr) else None, call.line)
        elif statsd and (call.name in ("statsd.StatsClient", "datadog.initialize") or call.name.startswith("datadog.statsd.")
                         or (call.attr in _STATSD_ATTRS and isinstance(first, str) and "." in call.name)):
            add("statsd", first if call.attr in _STATSD_ATTRS else None, call.line)
    return found


def _metrics(ctx: ProbeContext) -> Iterator[Evidence]:
    index = ctx.facts.python
    for path in sorted(index.files):
        pyfile = index.files[path]
        if not pyfile.parsed or _is_test(path) or not _roots(pyfile) & _METRIC_ROOTS:
            continue
        for library, (names, lines) in sorted(_metric_calls(pyfile).items()):
            downgrades = ["instrumentation only in a notebook"] if pyfile.notebook else []
            attrs = MetricsInstrumentation(library=library, metrics=sorted(names)[:_MAX_ITEMS])  # type: ignore[arg-type]
            yield ctx.evidence(
                "ops.metrics_instrumentation", attrs, path=path, lines=(min(lines), max(lines)), subject=library,
                strength=Strength.mention if downgrades else Strength.configured, downgrades=downgrades,
            )


def _scrape_monitors(ctx: ProbeContext) -> Iterator[Evidence]:
    """Prometheus Operator ServiceMonitor/PodMonitor: the service's metrics are scraped (MO-d)."""
    for path, docs in _yaml_docs(ctx, "Monitor", "ops.metrics_instrumentation"):
        for doc in docs:
            if not isinstance(doc, YMap) or doc.get("kind") not in ("ServiceMonitor", "PodMonitor"):
                continue
            if not str(doc.get("apiVersion", "")).startswith("monitoring.coreos.com"):
                continue
            key = "endpoints" if doc["kind"] == "ServiceMonitor" else "podMetricsEndpoints"
            if not isinstance(_dig(doc, "spec", key), list):
                continue
            attrs = MetricsInstrumentation(library="servicemonitor", metrics=[])  # scraped, names unknown
            yield ctx.evidence("ops.metrics_instrumentation", attrs, path=path, lines=_span(doc),
                               subject=f"{doc['kind']}/{_dig(doc, 'metadata', 'name') or ''}")


# --------------------------------------------------------------------------------------------
# ops.alert_rules, ops.alert_routing, ops.dashboards (YAML side), ops.runbook (annotations)
# --------------------------------------------------------------------------------------------

_DRIFT = lazy(r"drift|(?:^|[^a-z])psi(?:[^a-z]|$)|(?:^|[^a-z])ks(?:[^a-z]|$)|kolmogorov|share_of_drifted|jensen|wasserstein",
                    re.I)
_ALERT_LINE = lazy(r"^\s*-?\s*alert\s*:", re.M)
_RECEIVERS_LINE = lazy(r"^\s*receivers\s*:", re.M)
_CHANNELS = {
    "webhook": "webhook", "slack": "slack", "pagerduty": "pagerduty", "email": "email", "opsgenie": "opsgenie",
    "msteams": "msteams", "msteamsv2": "msteams",
}


def _yaml_docs(ctx: ProbeContext, needle: str, kind: str,
               unknown_if: Optional[re.Pattern[str]] = None) -> Iterator[tuple[str, list[Any]]]:
    """Parsed YAML files whose text contains ``needle``.

    A malformed file yields one ``_Unknown`` for ``kind`` when its text matches ``unknown_if``
    (it looks like what we were looking for) and is not a template (``{{ }}``).
    """
    for path in ctx.paths:
        if not _YAML.search(path):
            continue
        text = ctx.facts.text(path)
        if text is None or needle not in text:
            continue
        docs = ctx.facts.yaml(path)
        if docs is None:
            if unknown_if is not None and unknown_if.search(text) and "{{" not in text:
                yield path, [_Unknown(ctx.unknown(kind, ctx.facts.problems.get(path, "malformed YAML"), path=path))]
            continue
        yield path, docs


class _Unknown:
    def __init__(self, evidence: Evidence):
        self.evidence = evidence


def _rule_file_refs(ctx: ProbeContext) -> list[tuple[str, list[str]]]:
    """(config path, rule_files patterns) of every Prometheus server config in the repository."""
    def configs() -> Iterator[tuple[str, Optional[list[Any]]]]:
        for path in ctx.paths:
            if not _YAML.search(path):
                continue
            text = ctx.facts.text(path)
            if text is not None and "rule_files" in text:
                yield path, ctx.facts.yaml(path)
    return rule_file_globs(configs())


def _alert_rules(ctx: ProbeContext) -> Iterator[Evidence]:
    configs = _rule_file_refs(ctx)
    for path, docs in _yaml_docs(ctx, "alert", "ops.alert_rules", _ALERT_LINE):
        for doc in docs:
            if isinstance(doc, _Unknown):
                yield doc.evidence
                continue
            found = rule_groups(doc)
            if not found:
                continue
            groups, fmt, subject, lines = found
            rules, alerts, drift, runbooks = _read_groups(groups)
            if not alerts:
                continue  # recording rules only: nothing alerts anyone
            is_loaded = loaded(path, configs) if fmt == "prometheus" else None
            downgrades = []
            if is_loaded is False:
                downgrades.append("rule file is not listed in rule_files of the repository's Prometheus config")
            attrs = AlertRules(rules=rules, alerts=sorted(set(alerts))[:_MAX_ITEMS], drift_related=drift,
                               format=fmt, loaded=is_loaded)  # type: ignore[arg-type]
            yield ctx.evidence("ops.alert_rules", attrs, path=path, lines=lines, subject=subject,
                               strength=Strength.mention if downgrades else Strength.configured, downgrades=downgrades)
            for alert, url, span in runbooks[:_MAX_ITEMS]:
                yield ctx.evidence("ops.runbook", Runbook(path=url, source="alert_annotation"), path=path,
                                   lines=span, subject=f"{subject}/{alert}" if subject else alert)


def _read_groups(groups: Any) -> tuple[int, list[str], bool, list[tuple[str, str, tuple[int, int]]]]:
    rules = 0
    alerts: list[str] = []
    drift = False
    runbooks: list[tuple[str, str, tuple[int, int]]] = []
    for group in groups if isinstance(groups, list) else []:
        entries = _dig(group, "rules")
        if not isinstance(entries, list):
            continue
        for index, rule in enumerate(entries):
            if not isinstance(rule, dict) or not (rule.get("alert") or rule.get("record")):
                continue
            rules += 1
            if not rule.get("alert"):
                continue
            name = str(rule["alert"])
            alerts.append(name)
            if _DRIFT.search(name) or _DRIFT.search(str(rule.get("expr") or "")):
                drift = True
            url = _dig(rule, "annotations", "runbook_url")
            if isinstance(url, str) and url.strip():
                span = entries.item_span(index) if isinstance(entries, YList) else _span(rule)
                runbooks.append((name, url.strip(), span))
    return rules, alerts, drift, runbooks


def find_alertmanager(obj: Any, depth: int = 0) -> Iterator[YMap]:
    """Mappings shaped like an Alertmanager config (route + receivers), however deeply nested."""
    if depth > _MAX_DEPTH:
        return
    if isinstance(obj, YMap):
        if isinstance(obj.get("route"), dict) and isinstance(obj.get("receivers"), list):
            yield obj
            return
        for value in obj.values():
            yield from find_alertmanager(value, depth + 1)
    elif isinstance(obj, list):
        for value in obj:
            yield from find_alertmanager(value, depth + 1)


def _channels_of(receiver: dict) -> set[str]:
    channels = set()
    for key, value in receiver.items():
        match = re.fullmatch(r"(\w+?)(?:_configs|Configs)", str(key))
        if match and isinstance(value, list) and value:
            channels.add(_CHANNELS.get(match.group(1).lower(), match.group(1).lower()))
    return channels


def route_receivers(route: Any, depth: int = 0) -> set[str]:
    if not isinstance(route, dict) or depth > _MAX_DEPTH:
        return set()
    names = {str(route["receiver"])} if route.get("receiver") else set()
    for child in route.get("routes") or []:
        names |= route_receivers(child, depth + 1)
    return names


def _alert_routing(ctx: ProbeContext) -> Iterator[Evidence]:
    for path, docs in _yaml_docs(ctx, "receivers", "ops.alert_routing", _RECEIVERS_LINE):
        for doc in docs:
            if isinstance(doc, _Unknown):
                yield doc.evidence
                continue
            root = doc.get("spec") if isinstance(doc, YMap) and doc.get("kind") == "AlertmanagerConfig" else doc
            for config in find_alertmanager(root):
                receivers = {str(r.get("name")): _channels_of(r) for r in config["receivers"] if isinstance(r, dict)}
                used = route_receivers(config["route"])
                routed = any(receivers.get(name) for name in used)
                channels = sorted({c for chans in receivers.values() for c in chans})
                attrs = AlertRouting(receivers=sorted(receivers)[:_MAX_ITEMS], channels=channels, routed=routed)
                downgrades = [] if routed else ["route has no receiver with a channel"]
                yield ctx.evidence("ops.alert_routing", attrs, path=path, lines=_span(config),
                                   subject=str(_dig(doc, "metadata", "name") or ""),
                                   strength=Strength.configured if routed else Strength.mention, downgrades=downgrades)


# --------------------------------------------------------------------------------------------
# ops.dashboards
# --------------------------------------------------------------------------------------------


def _panel_count(panels: Any, depth: int = 0) -> int:
    if not isinstance(panels, list) or depth > _MAX_DEPTH:
        return 0
    total = 0
    for panel in panels:
        if isinstance(panel, dict):
            total += 0 if panel.get("type") == "row" else 1
            total += _panel_count(panel.get("panels"), depth + 1)
    return total


def _dashboard_of(obj: Any) -> Optional[dict]:
    if isinstance(obj, dict) and isinstance(obj.get("dashboard"), dict):
        obj = obj["dashboard"]
    if isinstance(obj, dict) and isinstance(obj.get("panels"), list) and ("title" in obj or "schemaVersion" in obj):
        return obj
    return None


def _dashboards(ctx: ProbeContext) -> Iterator[Evidence]:
    for path in ctx.paths:
        if path.endswith(".json"):
            text = ctx.facts.text(path)
            if text is None or '"panels"' not in text:
                continue
            obj = ctx.facts.json(path)
            if obj is None:
                yield ctx.unknown("ops.dashboards", ctx.facts.problems.get(path, "malformed JSON"), path=path)
                continue
            dashboard = _dashboard_of(obj)
            if dashboard is not None:
                attrs = Dashboards(tool="grafana", dashboards=1, panels=_panel_count(dashboard.get("panels")))
                yield ctx.evidence("ops.dashboards", attrs, path=path, lines=_whole(ctx, path))
    for path, docs in _yaml_docs(ctx, "dashboard", "ops.dashboards"):
        for doc in docs:
            if isinstance(doc, _Unknown) or not isinstance(doc, YMap):
                continue  # a malformed YAML that merely mentions dashboards is not a dashboard
            found = _yaml_dashboards(doc)
            if found:
                count, panels, subject = found
                attrs = Dashboards(tool="grafana", dashboards=count, panels=panels)
                yield ctx.evidence("ops.dashboards", attrs, path=path, lines=_span(doc), subject=subject)


def _yaml_dashboards(doc: YMap) -> Optional[tuple[int, int, str]]:
    """Grafana provisioning providers, dashboard ConfigMaps (grafana sidecar) and GrafanaDashboard CRs."""
    providers = doc.get("providers")
    if doc.get("apiVersion") == 1 and isinstance(providers, list) and providers:
        return len([p for p in providers if isinstance(p, dict)]), 0, "provisioning"
    kind, name = doc.get("kind"), str(_dig(doc, "metadata", "name") or "")
    if kind == "ConfigMap" and isinstance(_dig(doc, "metadata", "labels"), dict) \
            and any("grafana_dashboard" in str(k) for k in doc["metadata"]["labels"]):
        data = doc.get("data") if isinstance(doc.get("data"), dict) else {}
        count, panels = 0, 0
        for value in data.values():
            try:
                dashboard = _dashboard_of(json.loads(value)) if isinstance(value, str) else None
            except ValueError:
                dashboard = None
            if dashboard is not None:
                count += 1
                panels += _panel_count(dashboard.get("panels"))
        return (count, panels, name) if count else None
    if kind == "GrafanaDashboard" and str(doc.get("apiVersion", "")).startswith("grafana.integreatly.org"):
        return 1, 0, name
    return None


# --------------------------------------------------------------------------------------------
# ops.failure_notification
# --------------------------------------------------------------------------------------------

_NOTIFY = (
    ("slack", lazy(r"slack", re.I)),
    ("msteams", lazy(r"teams|webhook\.office|office\.com/webhook|office365Connector", re.I)),
    ("discord", lazy(r"discord", re.I)),
    ("googlechat", lazy(r"googlechat|chat\.googleapis\.com", re.I)),
    ("mattermost", lazy(r"mattermost|rocketSend|rocket\.chat", re.I)),
    ("pagerduty", lazy(r"pagerduty", re.I)),
    ("opsgenie", lazy(r"opsgenie", re.I)),
    ("email", lazy(r"send-?mail|\bmail\b|emailext|smtp|\bses\b", re.I)),
    ("issue", lazy(r"issues\.create|gh\s+issue\s+create|create-issue", re.I)),
    ("webhook", lazy(r"\b(?:curl|wget|Invoke-RestMethod)\b.*(?:webhook|hooks?\.|https?://)", re.I)),
)


def _channel(step: Any) -> Optional[str]:
    parts = [str(getattr(step, "uses", "") or ""), str(getattr(step, "run", "") or "")]
    for mapping in (getattr(step, "with_", None) or {}, getattr(step, "env", None) or {}):
        parts += [f"{k} {v}" for k, v in mapping.items()]
    text = "\n".join(parts)
    for channel, pattern in _NOTIFY:
        if pattern.search(text):
            return channel
    return None


def _on_failure(condition: Any) -> bool:
    """GitHub `failure()` (not `!failure()`), GitLab `when: on_failure`, Jenkins `post { failure {} }`
    (and `unsuccessful`/`regression`/`always`, which fire on a failed build too)."""
    return bool(condition) and bool(re.search(
        r"(?<!!)\bfailure\(\)|^\s*on_failure\s*$|^post: (?:failure|unsuccessful|regression|always)$", str(condition)))


def _job_condition(ctx: ProbeContext, pipeline: Any, job: Any) -> str:
    """A job's own run condition: GitHub ``if:``, GitLab ``when:``.

    The CI model does not carry job conditions (yet), so this reads the job's mapping from the
    already parsed workflow file; a condition inherited through GitLab ``extends:`` is missed.
    """
    for attr in ("condition", "when"):
        value = getattr(job, attr, None)
        if value:
            return str(value)
    if pipeline.system not in ("github_actions", "gitlab_ci"):
        return ""  # other systems carry their conditions on the steps (Jenkins `post: failure`)
    doc = ctx.facts.yaml_doc(job.path)
    if not isinstance(doc, dict):
        return ""
    job_key = str(job.id).rsplit("/", 1)[-1]
    spec = _dig(doc, "jobs", job_key) if pipeline.system == "github_actions" else doc.get(job_key)
    if not isinstance(spec, dict):
        return ""
    value = spec.get("if") if pipeline.system == "github_actions" else spec.get("when")
    return str(value) if value is not None else ""


def _ci_notifications(ctx: ProbeContext) -> Iterator[Evidence]:
    try:
        ci = ctx.facts.ci
    except ImportError:  # no CI parsers in this build
        return
    for pipeline, job in ci.jobs():
        job_failure = _on_failure(_job_condition(ctx, pipeline, job))
        for step in job.steps:
            if not (job_failure or _on_failure(step.condition)):
                continue
            channel = _channel(step)
            if channel is None:
                continue
            dead = job.disabled or getattr(step, "disabled", None)
            downgrades = [f"never runs: {dead}"] if dead else []
            attrs = FailureNotification(system=pipeline.system, job=job.id, channel=channel)
            where = step.where(job) if hasattr(step, "where") else job.path
            yield ctx.evidence(
                "ops.failure_notification", attrs, path=where, lines=(step.start_line, step.end_line),
                subject=f"{job.id}:{step.name or step.start_line}",
                strength=Strength.mention if downgrades else Strength.configured, downgrades=downgrades,
            )
            break  # one notification per job is the fact; more are the same fact


_AIRFLOW_CALLBACK = lazy(r"""["']?on_failure_callback["']?\s*[:=]\s*(?!None\b)\S""")
_AIRFLOW_EMAIL = lazy(r"""["']?email_on_failure["']?\s*[:=]\s*True\b""")
_DAG_CALLS = ("airflow.DAG", "airflow.models.DAG", "airflow.models.dag.DAG", "airflow.sdk.DAG",
              "airflow.decorators.dag", "airflow.sdk.dag")


def _dag_id(pyfile: PyFile) -> str:
    for call in pyfile.calls:
        if call.name in _DAG_CALLS:
            value = call.kwarg("dag_id") or (call.literal_args[0] if call.literal_args else None)
            if isinstance(value, str):
                return value
    return posixpath.splitext(posixpath.basename(pyfile.path))[0]


def _orchestrator_notifications(ctx: ProbeContext) -> Iterator[Evidence]:
    index = ctx.facts.python
    for path in sorted(index.files):
        pyfile = index.files[path]
        if not pyfile.parsed or _is_test(path) or pyfile.notebook:
            continue
        roots = _roots(pyfile)
        if not roots & {"airflow", "prefect", "dagster", "dagster_slack", "dagster_msteams"}:
            continue
        if "airflow" in roots:
            lines = ctx.facts.lines(path) or []
            seen: set[str] = set()
            for number, line in enumerate(lines, 1):
                code = line.split("#", 1)[0]
                for channel, pattern in (("callback", _AIRFLOW_CALLBACK), ("email", _AIRFLOW_EMAIL)):
                    if channel not in seen and pattern.search(code):
                        seen.add(channel)
                        attrs = FailureNotification(system="airflow", job=_dag_id(pyfile), channel=channel)
                        yield ctx.evidence("ops.failure_notification", attrs, path=path, lines=(number, number),
                                           subject=channel)
        for call in pyfile.calls:
            if call.name in ("prefect.flow", "prefect.task") and "on_failure" in call.keywords:
                attrs = FailureNotification(system="prefect", job=str(call.kwarg("name") or pyfile.path), channel="callback")
                yield ctx.evidence("ops.failure_notification", attrs, path=path, lines=(call.line, call.end_line),
                                   subject=f"prefect:{call.line}")
            elif call.name in ("dagster.run_failure_sensor", "dagster_slack.make_slack_on_run_failure_sensor",
                               "dagster_msteams.make_teams_on_run_failure_sensor"):
                channel = "slack" if "slack" in call.name else "msteams" if "teams" in call.name else "callback"
                attrs = FailureNotification(system="dagster", job=str(call.kwarg("name") or pyfile.path), channel=channel)
                yield ctx.evidence("ops.failure_notification", attrs, path=path, lines=(call.line, call.end_line),
                                   subject=f"dagster:{call.line}")


# --------------------------------------------------------------------------------------------
# ops.numeric_checks
# --------------------------------------------------------------------------------------------

_NUMERIC_NAMES = frozenset({
    "numpy.isnan", "numpy.isinf", "numpy.isfinite", "numpy.isposinf", "numpy.isneginf",
    "math.isnan", "math.isinf", "math.isfinite",
    "torch.isnan", "torch.isinf", "torch.isfinite", "torch.autograd.detect_anomaly",
    "torch.autograd.set_detect_anomaly", "torch.autograd.anomaly_mode.detect_anomaly",
    "tensorflow.debugging.check_numerics", "tensorflow.debugging.enable_check_numerics",
    "tensorflow.debugging.assert_all_finite", "tensorflow.math.is_nan", "tensorflow.math.is_inf",
    "tensorflow.math.is_finite", "sklearn.utils.assert_all_finite", "sklearn.utils.validation.assert_all_finite",
    "jax.numpy.isnan", "jax.numpy.isfinite", "jax.debug_nans",
})
# Notebook cells are indexed one by one, so `np` imported in an earlier cell stays unresolved.
_CONVENTIONAL_ALIASES = {"np": "numpy", "tf": "tensorflow", "jnp": "jax.numpy"}
_NUMERIC_ROOTS = frozenset({"numpy", "math", "torch", "tensorflow", "jax", "sklearn"})
_NUMERIC_METHODS = frozenset({"isnan", "isinf", "isfinite"})


def _numeric(ctx: ProbeContext) -> Iterator[Evidence]:
    index = ctx.facts.python
    for path in sorted(index.files):
        pyfile = index.files[path]
        if not pyfile.parsed or _is_test(path) or not _roots(pyfile) & _NUMERIC_ROOTS:
            continue
        checks: set[str] = set()
        first = None
        for call in pyfile.calls:
            head, _, rest = call.name.partition(".")
            resolved = f"{_CONVENTIONAL_ALIASES[head]}.{rest}" if head in _CONVENTIONAL_ALIASES and rest else call.name
            if resolved in _NUMERIC_NAMES:
                name = resolved
            elif call.attr in _NUMERIC_METHODS and "()" not in call.name and "." in call.name:
                root = call.name.split(".", 1)[0]
                if pyfile.imports_module(root) and root not in ("torch", "numpy", "math", "tensorflow", "jax"):
                    continue  # some other library's isnan-named helper
                name = call.name if root in ("torch", "numpy", "math", "tensorflow", "jax") else f"tensor.{call.attr}"
            else:
                continue
            checks.add(name)
            first = first or call
        if first is None:
            continue
        downgrades = ["numeric checks only in a notebook"] if pyfile.notebook else []
        attrs = NumericChecks(checks=sorted(checks))
        yield ctx.evidence("ops.numeric_checks", attrs, path=path, lines=(first.line, first.end_line),
                           strength=Strength.mention if downgrades else Strength.configured, downgrades=downgrades)


# --------------------------------------------------------------------------------------------
# ops.runbook (files)
# --------------------------------------------------------------------------------------------

_RUNBOOK = lazy(r"(?:^|/)runbooks?(?:[-_.][^/]*)?\.md$|(?:^|/)runbooks?/.+\.md$", re.I)


def _runbooks(ctx: ProbeContext) -> Iterator[Evidence]:
    for path in ctx.paths:
        if not _RUNBOOK.search(path):
            continue
        text = ctx.facts.text(path)
        if text is None:
            yield ctx.unknown("ops.runbook", ctx.facts.problems.get(path, "unreadable"), path=path)
            continue
        words = re.findall(r"[A-Za-z]{2,}", re.sub(r"(?m)^\s*#+.*$", "", text))
        downgrades = [] if len(words) >= 20 else ["runbook has almost no content"]
        yield ctx.evidence("ops.runbook", Runbook(path=path, source="file"), path=path, lines=_whole(ctx, path),
                           strength=Strength.mention if downgrades else Strength.configured, downgrades=downgrades)


# --------------------------------------------------------------------------------------------
# the probe
# --------------------------------------------------------------------------------------------


def collect(ctx: ProbeContext) -> Iterable[Evidence]:
    for path in ctx.paths:
        if _DEPENDABOT.match(path):
            yield from _dependabot(ctx, path)
        elif _RENOVATE.match(path):
            yield from _renovate(ctx, path)
    yield from _metrics(ctx)
    yield from _scrape_monitors(ctx)
    yield from _alert_rules(ctx)
    yield from _alert_routing(ctx)
    yield from _ci_notifications(ctx)
    yield from _orchestrator_notifications(ctx)
    yield from _dashboards(ctx)
    yield from _numeric(ctx)
    yield from _runbooks(ctx)


PROBE = Probe(
    id="ops",
    title="Operations: dependency updates, metrics, alerts, routing, failure notices, dashboards, runbooks",
    patterns=(
        ".github/dependabot.yml", ".github/dependabot.yaml",
        "renovate.json", "renovate.json5", ".renovaterc", ".renovaterc.json", ".renovaterc.json5",
        ".github/renovate.json", ".github/renovate.json5", ".gitlab/renovate.json", ".gitlab/renovate.json5",
        "**/*.yaml", "**/*.yml", "**/*.rules",
        "**/*grafana*/**/*.json", "**/*dashboard*/**/*.json", "**/*Dashboard*/**/*.json", "**/*dashboard*.json",
        "**/*grafana*.json", "**/monitoring/**/*.json", "**/observability/**/*.json",
        "**/*[Rr][Uu][Nn][Bb][Oo][Oo][Kk]*.md", "**/[Rr]unbooks/**/*.md",
    ),
    kinds=(
        Kind("ops.dependency_updates", DependencyUpdates, "Automated dependency update PRs (Dependabot v2, Renovate)"),
        Kind("ops.metrics_instrumentation", MetricsInstrumentation, "Service metrics exported from code (Prometheus client, OpenTelemetry, StatsD)"),
        Kind("ops.alert_rules", AlertRules, "Prometheus alerting rules (rule files or PrometheusRule), drift-related or not"),
        Kind("ops.alert_routing", AlertRouting, "Alertmanager routing to receivers with notification channels"),
        Kind("ops.failure_notification", FailureNotification, "A pipeline or DAG notifies someone when it fails"),
        Kind("ops.dashboards", Dashboards, "Grafana dashboards as code (JSON, provisioning, ConfigMaps, CRs)"),
        Kind("ops.numeric_checks", NumericChecks, "NaN/Inf checks in training or serving code"),
        Kind("ops.runbook", Runbook, "A runbook document, or an alert annotated with runbook_url"),
    ),
    collect=collect,
    python_tokens=(
        "prometheus_client", "prometheus_fastapi_instrumentator", "prometheus_flask_exporter", "starlette_exporter",
        "opentelemetry", "statsd", "isnan", "isinf", "isfinite", "detect_anomaly", "check_numerics",
        "assert_all_finite", "on_failure_callback", "email_on_failure", "on_failure", "run_failure_sensor",
    ),
)
