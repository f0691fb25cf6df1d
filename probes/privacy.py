"""Privacy and retention automation where personal data is handled (RUBRIC §3.5 GV-n, criterion
GV-4.4; overlaps DM-p; ML Test Score Data 5).

Emits three kinds:

- ``privacy.retention``: data that expires by itself. Object-store lifecycle expiration in
  Terraform (``aws_s3_bucket_lifecycle_configuration`` rules with ``expiration``, legacy inline
  ``lifecycle_rule`` on ``aws_s3_bucket``, ``google_storage_bucket`` ``lifecycle_rule`` with
  ``action { type = "Delete" }``, ``azurerm_storage_management_policy`` ``delete_after_days_*``),
  in ``*.tf.json``, in CloudFormation (``LifecycleConfiguration.Rules[].ExpirationInDays``), and in
  raw lifecycle JSON (GCS ``lifecycle.rule``, S3 ``Rules``) applied by a CI command; BigQuery
  expiration (``default_table_expiration_ms``, ``default_partition_expiration_ms``,
  ``time_partitioning.expiration_ms``, ``partition_expiration_days`` in SQL/dbt); scheduled
  deletion jobs (a CI job on a cron, or a Kubernetes ``CronJob``, running a purge/retention/erasure
  script) and ``dvc gc`` on a schedule.
- ``privacy.pii_protection``: PII scrubbing in pipeline code (scrubadub, pii-codex) and column
  masking in dbt (Snowflake ``create masking policy`` applied through ``masking_policy`` meta or
  ``set masking policy``). Presidio, Cloud DLP and Macie are probes/lineage.py's ``data.privacy``;
  the rule for GV-4.4 accepts both.
- ``privacy.personal_data``: the repository declares personal data (data contracts, dbt column
  ``meta``, datacards with ``pii: true`` or a pii/personal classification) or ``regulated: true``
  context in ``.mlscan.yaml``: the hint that makes GV-4.4 apply.

Strength: IaC rules that are enabled, and deletion jobs on a schedule, are configured; a disabled
rule, a lifecycle file nothing applies, a purge job without a schedule (or disabled/never
triggered) is a mention with the reason. Code in notebooks or tests is a mention. Commented-out
HCL, SQL and YAML is not read; prose (READMEs) is never evidence. Unparsable files are ``unknown``.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from typing import Any, Iterator, Literal, Optional

from probes._ci_links import runs_by_path
from scanner.facts.ci import Job, Step, ci_blocking_reasons, step_triggers
from scanner.facts.commands import invocations
from scanner.facts.needles import Needles
from scanner.facts.yamldoc import YList, YMap
from scanner.models import Evidence, Strength
from scanner.patterns import lazy
from scanner.probe import Attributes, Kind, Probe, ProbeContext

Mechanism = Literal["s3_lifecycle", "gcs_lifecycle", "azure_management_policy", "bigquery_expiration",
                    "scheduled_purge", "dvc_gc"]


class PrivacyRetention(Attributes):
    mechanism: Mechanism
    resource: str
    days: Optional[int]
    enabled: bool
    automatic: bool  # applied by the platform, or run on a schedule


class PrivacyPiiProtection(Attributes):
    tool: Literal["scrubadub", "pii_codex", "dbt_masking"]
    where: Literal["code", "dbt"]
    in_ci: bool


class PrivacyPersonalData(Attributes):
    source: Literal["data_contract", "dbt_meta", "datacard", "mlscan_context"]
    fields: list[str]  # a few flagged fields, sorted
    count: int


MAX_TEXT = 500_000
MAX_BLOCKS = 500
MS_PER_DAY = 86_400_000

# -- HCL: comments out, then blocks by brace matching -------------------------------------------------

_HCL_COMMENT = lazy(r'"(?:[^"\\\n]|\\.)*"|/\*.*?\*/|(?:#|//)[^\n]*', re.DOTALL)


def strip_hcl_comments(text: str) -> str:
    """HCL with comments blanked (strings kept, line numbers kept)."""
    def blank(match: "re.Match[str]") -> str:
        token = match.group(0)
        return token if token.startswith('"') else re.sub(r"[^\n]", " ", token)

    return _HCL_COMMENT.sub(blank, text)


def _block_end(text: str, open_brace: int) -> int:
    """Offset of the brace closing the one at ``open_brace`` (len(text) when unbalanced)."""
    depth, index, n = 0, open_brace, len(text)
    while index < n:
        char = text[index]
        if char == '"':
            index += 1
            while index < n and text[index] != '"':
                index += 2 if text[index] == "\\" else 1
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return index
        index += 1
    return n


@dataclass(frozen=True)
class Block:
    labels: tuple[str, ...]
    start: int  # offset of the block's first character
    body: str
    body_start: int


def blocks(text: str, name: str, base: int = 0) -> list[Block]:
    """Top-level-in-``text`` blocks ``name "l1" "l2" { ... }`` (nested ones of the same name too)."""
    found: list[Block] = []
    pattern = re.compile(rf'(?m)^[ \t]*{re.escape(name)}((?:[ \t]+"[^"\n]*")*)[ \t]*\{{')
    for match in pattern.finditer(text):
        if len(found) >= MAX_BLOCKS:
            break
        open_brace = match.end() - 1
        end = _block_end(text, open_brace)
        labels = tuple(re.findall(r'"([^"]*)"', match.group(1)))
        found.append(Block(labels, base + match.start(), text[open_brace + 1:end], base + open_brace + 1))
    return found


def _attr(body: str, key: str) -> Optional[str]:
    match = re.search(rf'(?m)^[ \t]*{re.escape(key)}[ \t]*=[ \t]*("?)([^"\n]*)\1', body)
    return match.group(2).strip() if match else None


def _int(value: Any) -> Optional[int]:
    try:
        return int(str(value).strip().strip('"'))
    except (TypeError, ValueError):
        return None


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


# -- Terraform ------------------------------------------------------------------------------------------


@dataclass
class Rule:
    mechanism: Mechanism
    resource: str
    days: Optional[int]
    enabled: bool
    lines: tuple[int, int]


def _tf_rules(code: str) -> Iterator[Rule]:
    for resource in blocks(code, "resource"):
        if len(resource.labels) != 2:
            continue
        rtype, name = resource.labels
        label = f"{rtype}.{name}"
        body, base = resource.body, resource.body_start
        if rtype == "aws_s3_bucket_lifecycle_configuration":
            yield from _s3_rules(code, label, blocks(body, "rule", base), "status")
        elif rtype == "aws_s3_bucket":
            yield from _s3_rules(code, label, blocks(body, "lifecycle_rule", base), "enabled")
        elif rtype == "google_storage_bucket":
            for rule in blocks(body, "lifecycle_rule", base):
                actions = blocks(rule.body, "action")
                if any((_attr(a.body, "type") or "") == "Delete" for a in actions):
                    condition = blocks(rule.body, "condition")
                    days = _int(_attr(condition[0].body, "age")) if condition else None
                    yield Rule("gcs_lifecycle", label, days, True, _span(code, rule))
        elif rtype == "azurerm_storage_management_policy":
            for rule in blocks(body, "rule", base):
                match = re.search(r"delete_after_days_since_(?:modification|creation|last_access_time)_greater_than\s*=\s*(\d+)",
                                  rule.body)
                if match:
                    enabled = (_attr(rule.body, "enabled") or "true").lower() != "false"
                    yield Rule("azure_management_policy", label, int(match.group(1)), enabled, _span(code, rule))
        elif rtype in ("google_bigquery_dataset", "google_bigquery_table"):
            match = re.search(r"(?m)^[ \t]*(default_table_expiration_ms|default_partition_expiration_ms|expiration_ms)"
                              r"[ \t]*=[ \t]*(\d+)", body)
            if match:
                line = _line(code, base + match.start(1))
                yield Rule("bigquery_expiration", label, int(match.group(2)) // MS_PER_DAY, True, (line, line))


def _s3_rules(code: str, label: str, rules: list[Block], switch: str) -> Iterator[Rule]:
    for rule in rules:
        expirations = blocks(rule.body, "expiration")
        if not expirations:
            continue
        state = (_attr(rule.body, switch) or "").lower()
        enabled = state in ("enabled", "true")
        days = _int(_attr(expirations[0].body, "days"))
        yield Rule("s3_lifecycle", label, days, enabled, _span(code, rule))


def _span(code: str, block: Block) -> tuple[int, int]:
    start = _line(code, block.start)
    return start, _line(code, block.body_start + len(block.body))


def _tf_json_rules(doc: Any) -> Iterator[tuple[Rule, str]]:
    """Rules of a ``*.tf.json`` document, with a needle to find their line."""
    resources = doc.get("resource") if isinstance(doc, dict) else None
    if not isinstance(resources, dict):
        return
    for rtype, named in resources.items():
        if not isinstance(named, dict):
            continue
        for name, body in named.items():
            for item in _items(body):
                label = f"{rtype}.{name}"
                if rtype == "aws_s3_bucket_lifecycle_configuration":
                    for rule in _items(item.get("rule")):
                        expiration = next(iter(_items(rule.get("expiration"))), None)
                        if expiration is not None:
                            enabled = str(rule.get("status", "")).lower() == "enabled"
                            yield Rule("s3_lifecycle", label, _int(expiration.get("days")), enabled, (1, 1)), f'"{name}"'
                elif rtype == "google_storage_bucket":
                    for rule in _items(item.get("lifecycle_rule")):
                        if any(a.get("type") == "Delete" for a in _items(rule.get("action"))):
                            condition = next(iter(_items(rule.get("condition"))), {})
                            yield Rule("gcs_lifecycle", label, _int(condition.get("age")), True, (1, 1)), f'"{name}"'


def _items(value: Any) -> list[dict]:
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, dict)]
    return []


# -- raw lifecycle JSON, CloudFormation --------------------------------------------------------------------


def _lifecycle_json(doc: Any) -> Optional[tuple[Mechanism, Optional[int], bool]]:
    """(mechanism, days, enabled) of a GCS or S3 lifecycle JSON document, if it is one."""
    if not isinstance(doc, dict):
        return None
    gcs = doc.get("lifecycle", doc)
    if isinstance(gcs, dict) and isinstance(gcs.get("rule"), list):
        deletes = [r for r in _items(gcs["rule"]) if isinstance(r.get("action"), dict) and r["action"].get("type") == "Delete"]
        if deletes:
            ages = [_int((r.get("condition") or {}).get("age")) for r in deletes]
            return "gcs_lifecycle", min((a for a in ages if a is not None), default=None), True
    rules = doc.get("Rules")
    if isinstance(rules, list):
        expiring = [r for r in _items(rules) if isinstance(r.get("Expiration"), dict)]
        if expiring:
            live = [r for r in expiring if str(r.get("Status", "")).lower() == "enabled"]
            days = [_int(r["Expiration"].get("Days")) for r in (live or expiring)]
            return "s3_lifecycle", min((d for d in days if d is not None), default=None), bool(live)
    return None


_APPLY_LIFECYCLE = lazy(r"\bgsutil\s+lifecycle\s+set\b|\bgcloud\s+storage\s+buckets\s+update\b.*--lifecycle-file"
                              r"|\baws\s+s3api\s+put-bucket-lifecycle(?:-configuration)?\b")


def _applied_lifecycle_files(ctx: ProbeContext) -> set[str]:
    """Lifecycle JSON files some live CI step applies (``gsutil lifecycle set f.json gs://b``)."""
    applied: set[str] = set()
    for _pipeline, job, step in ctx.facts.ci.steps():
        if job.disabled or step.disabled:
            continue
        for command in step.commands():
            if _APPLY_LIFECYCLE.search(command):
                for token in re.findall(r"(?:file://|=|\s)([\w./-]+\.json)\b", command):
                    applied.add(posixpath.normpath(posixpath.join(step.workdir or ".", token)))
    return applied


def _cfn_rules(ctx: ProbeContext, path: str, doc: YMap) -> Iterator[Evidence]:
    resources = doc.get("Resources")
    if not isinstance(resources, YMap):
        return
    for name, resource in resources.items():
        if not isinstance(resource, YMap) or resource.get("Type") != "AWS::S3::Bucket":
            continue
        props = resource.get("Properties")
        config = props.get("LifecycleConfiguration") if isinstance(props, YMap) else None
        rules = config.get("Rules") if isinstance(config, YMap) else None
        if not isinstance(rules, YList):
            continue
        for index, rule in enumerate(rules):
            if not isinstance(rule, YMap) or "ExpirationInDays" not in rule:
                continue
            enabled = str(rule.get("Status", "")).lower() == "enabled"
            attrs = PrivacyRetention(mechanism="s3_lifecycle", resource=str(name), days=_int(rule.get("ExpirationInDays")),
                                     enabled=enabled, automatic=enabled)
            reasons = [] if enabled else [f"rule status is {rule.get('Status')!r}, not Enabled"]
            yield ctx.evidence("privacy.retention", attrs, path=path, lines=rules.item_span(index), subject=f"{path}:{name}:{index}",
                               strength=Strength.mention if reasons else Strength.configured, downgrades=reasons)


# -- SQL / dbt ---------------------------------------------------------------------------------------------

_SQL_COMMENT = lazy(r"'(?:[^'\n]|'')*'|\{#.*?#\}|/\*.*?\*/|--[^\n]*", re.DOTALL)
_PARTITION_EXPIRY = lazy(r"\b(partition_expiration_days|hours_to_expiration)\s*[=:]\s*(\d+)")
_MASKING_POLICY = lazy(r"\bcreate\s+(?:or\s+replace\s+)?masking\s+policy\s+(?:if\s+not\s+exists\s+)?([\w.{}\s]*?)\s+as\b",
                             re.IGNORECASE)
_SET_MASKING = lazy(r"\bset\s+masking\s+policy\b", re.IGNORECASE)


def _strip_sql(text: str) -> str:
    def blank(match: "re.Match[str]") -> str:
        token = match.group(0)
        return token if token.startswith("'") else re.sub(r"[^\n]", " ", token)

    return _SQL_COMMENT.sub(blank, text)


# -- scheduled deletion --------------------------------------------------------------------------------------

_PURGE = lazy(r"purge|retention|expire|erasure|(?<![a-z])gdpr|forget|anonymi[sz]e"
                    r"|delete[-_](?:old|expired|stale|users?|pii|personal|customer)", re.IGNORECASE)
_DVC_GC = lazy(r"\bdvc\s+gc\b")


def _purge_command(command: str) -> Optional[Mechanism]:
    if _DVC_GC.search(command):
        return "dvc_gc"
    for inv in invocations(command):
        names = [inv.script, inv.module]
        if inv.program in ("bash", "sh", "make", "just"):
            names += [a for a in inv.args[:2] if not a.startswith("-")]
        if inv.program in ("dbt",):
            names += [a for a in inv.args if not a.startswith("-")]
        if any(n and _PURGE.search(n) for n in names):
            return "scheduled_purge"
    return None


def _ci_purges(ctx: ProbeContext) -> Iterator[Evidence]:
    seen: set[tuple[str, int]] = set()
    for _pipeline, job, step in ctx.facts.ci.steps():
        for command in step.commands():
            mechanism = _purge_command(command)
            key = (step.where(job), step.start_line)
            if mechanism is None or key in seen:
                continue
            seen.add(key)
            yield _purge_evidence(ctx, job, step, command, mechanism)


def _purge_evidence(ctx: ProbeContext, job: Job, step: Step, command: str, mechanism: Mechanism) -> Evidence:
    triggers = step_triggers(job, step)
    reasons = [r for r in ci_blocking_reasons(job, step, command) if r.startswith("disabled")]
    scheduled = "schedule" in triggers and not reasons
    if not reasons and not scheduled:
        reasons.append(f"not on a schedule (runs on {', '.join(triggers) or 'no trigger'})")
    attrs = PrivacyRetention(mechanism=mechanism, resource=f"{job.id}: {command[:120]}", days=None,
                             enabled=not job.disabled and not step.disabled, automatic=scheduled)
    path = step.where(job)
    return ctx.evidence("privacy.retention", attrs, path=path, lines=(step.start_line, step.end_line),
                        subject=f"{path}:{job.id}:{command[:80]}",
                        strength=Strength.mention if reasons else Strength.configured, downgrades=reasons)


def _cronjob(ctx: ProbeContext, path: str, doc: YMap) -> Optional[Evidence]:
    if doc.get("kind") != "CronJob" or not isinstance(doc.get("spec"), YMap):
        return None
    spec = doc["spec"]
    containers = (((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}).get("spec") or {}
    commands = []
    for container in _items(containers.get("containers") if isinstance(containers, dict) else None):
        parts = [*(container.get("command") or []), *(container.get("args") or [])]
        commands.append(" ".join(str(p) for p in parts if isinstance(p, (str, int))))
    command = next((c for c in commands if _purge_command(c)), None)
    if command is None:
        return None
    suspended = spec.get("suspend") is True
    reasons = ["CronJob is suspended (`suspend: true`)"] if suspended else []
    name = str((doc.get("metadata") or {}).get("name", "?"))
    attrs = PrivacyRetention(mechanism=_purge_command(command) or "scheduled_purge", resource=f"CronJob/{name}",
                             days=None, enabled=not suspended, automatic=not suspended)
    return ctx.evidence("privacy.retention", attrs, path=path, lines=doc.key_span("spec"), subject=f"{path}:{name}",
                        strength=Strength.mention if reasons else Strength.configured, downgrades=reasons)


# -- personal data declarations ---------------------------------------------------------------------------------

_PII_KEYS = frozenset({"pii", "contains_pii", "is_pii", "personal_data", "personally_identifiable", "gdpr_personal_data"})
_CLASS_KEYS = frozenset({"classification", "data_classification", "sensitivity", "privacy"})
_PII_CLASS = lazy(r"^(?:pii|personal(?:[-_ ]data)?|sensitive[-_ ]personal|special[-_ ]category|spi|phi)$", re.IGNORECASE)
MAX_WALK = 20_000


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() in ("true", "yes"))


def _pii_fields(doc: Any) -> list[tuple[str, int]]:
    """(field name, line) of every mapping flagged as personal data, walked breadth-first, bounded."""
    found: list[tuple[str, int]] = []
    queue: list[tuple[Any, str]] = [(doc, "")]
    visited = 0
    while queue and visited < MAX_WALK:
        node, parent = queue.pop(0)
        visited += 1
        if isinstance(node, YMap):
            flagged = next((k for k in node if str(k).lower() in _PII_KEYS and _truthy(node[k])), None)
            if flagged is None:
                flagged = next((k for k in node if str(k).lower() in _CLASS_KEYS and isinstance(node[k], str)
                                and _PII_CLASS.match(node[k].strip())), None)
            if flagged is not None:
                name = node.get("name") or parent or "?"
                found.append((str(name), node.key_span(flagged)[0]))
            for key, value in node.items():
                label = parent if str(key).lower() in ("meta", "config", "tags") else str(key)
                queue.append((value, label))
        elif isinstance(node, YList):
            queue.extend((item, parent) for item in node)
    return found


def _source(path: str, doc: Any) -> Literal["data_contract", "dbt_meta", "datacard"]:
    name = posixpath.basename(path).lower()
    if "contract" in name or (isinstance(doc, dict) and ("dataContractSpecification" in doc or "apiVersion" in doc and "kind" in doc
                                                         and str(doc.get("kind")) == "DataContract")):
        return "data_contract"
    if isinstance(doc, dict) and isinstance(doc.get("models"), list) or isinstance(doc, dict) and "sources" in doc:
        return "dbt_meta"
    return "datacard"


# -- collect ---------------------------------------------------------------------------------------------------------


def _terraform(ctx: ProbeContext, path: str) -> Iterator[Evidence]:
    if path.endswith(".tf.json"):
        doc = ctx.facts.json(path)
        if doc is None:
            yield ctx.unknown("privacy.retention", ctx.facts.problems.get(path, "could not be parsed"), path=path)
            return
        for rule, needle in _tf_json_rules(doc):
            line = ctx.facts.find_line(path, needle) or 1
            yield _rule_evidence(ctx, path, Rule(rule.mechanism, rule.resource, rule.days, rule.enabled, (line, line)))
        return
    text = ctx.facts.text(path)
    if text is None or len(text) > MAX_TEXT:
        if text is None:
            yield ctx.unknown("privacy.retention", ctx.facts.problems.get(path, "could not be read"), path=path)
        return
    if not re.search(r"lifecycle|expiration|delete_after_days", text):
        return
    for rule in _tf_rules(strip_hcl_comments(text)):
        yield _rule_evidence(ctx, path, rule)


def _rule_evidence(ctx: ProbeContext, path: str, rule: Rule) -> Evidence:
    reasons = [] if rule.enabled else ["the lifecycle rule is disabled"]
    attrs = PrivacyRetention(mechanism=rule.mechanism, resource=rule.resource, days=rule.days, enabled=rule.enabled,
                             automatic=rule.enabled)
    return ctx.evidence("privacy.retention", attrs, path=path, lines=rule.lines,
                        subject=f"{path}:{rule.resource}:{rule.lines[0]}",
                        strength=Strength.mention if reasons else Strength.configured, downgrades=reasons)


_SQL_NEEDLES = Needles([r"(?i)partition_expiration_days|hours_to_expiration|masking[ \t]+policy"])


def _sql(ctx: ProbeContext, paths: list[str], masking_refs: bool) -> Iterator[Evidence]:
    for path, text in ctx.facts.grep(paths, _SQL_NEEDLES):
        if len(text) > MAX_TEXT:
            continue
        code = _strip_sql(text)
        for match in _PARTITION_EXPIRY.finditer(code):
            line = _line(code, match.start())
            value = int(match.group(2))
            days = value if match.group(1) == "partition_expiration_days" else value // 24
            attrs = PrivacyRetention(mechanism="bigquery_expiration", resource=f"{path}:{match.group(1)}", days=days,
                                     enabled=True, automatic=True)
            yield ctx.evidence("privacy.retention", attrs, path=path, lines=(line, line), subject=f"{path}:{line}")
        policy = _MASKING_POLICY.search(code)
        if policy:
            line = _line(code, policy.start())
            applied = masking_refs or bool(_SET_MASKING.search(code))
            reasons = [] if applied else ["masking policy defined but never applied to a column"]
            yield ctx.evidence("privacy.pii_protection", PrivacyPiiProtection(tool="dbt_masking", where="dbt", in_ci=False),
                               path=path, lines=(line, line), subject=f"masking:{path}",
                               strength=Strength.mention if reasons else Strength.configured, downgrades=reasons)


_MATTERS = lazy(r"(?m)^[ \t-]*(?:pii|contains_pii|is_pii|personal_data|regulated|masking_policy)[ \t]*:"
                      r"|^[ \t]*kind:[ \t]*CronJob\b|AWS::S3::Bucket")


_YAML_NEEDLES = Needles([r"(?i)\bpii\b|personal|classification|sensitivity|AWS::S3::Bucket|CronJob"
                         r"|masking_policy|partition_expiration_days|regulated"])


def _yaml(ctx: ProbeContext, paths: list[str], ci_files: set[str]) -> Iterator[Evidence | str]:
    """YAML evidence; yields the string "masking" when a dbt schema applies a masking policy."""
    for path, text in ctx.facts.grep([p for p in paths if p not in ci_files], _YAML_NEEDLES):
        docs = ctx.facts.yaml(path)
        if docs is None:
            if _MATTERS.search(text):  # a Helm template that mentions "personal" is not our business
                yield ctx.unknown("privacy.personal_data", ctx.facts.problems.get(path, "could not be parsed"), path=path)
            continue
        if posixpath.basename(path) == ".mlscan.yaml":
            yield from _mlscan(ctx, path, docs)
            continue
        if re.search(r"(?m)^[ \t]*masking_policy[ \t]*:", text):
            yield "masking"
        for doc in docs:
            if not isinstance(doc, YMap):
                continue
            if "AWS::S3::Bucket" in text:
                yield from _cfn_rules(ctx, path, doc)
            cron = _cronjob(ctx, path, doc)
            if cron is not None:
                yield cron
            fields = _pii_fields(doc)
            if fields:
                attrs = PrivacyPersonalData(source=_source(path, doc), fields=sorted({f for f, _ in fields})[:10],
                                            count=len(fields))
                lines = sorted(line for _, line in fields)
                yield ctx.evidence("privacy.personal_data", attrs, path=path, lines=(lines[0], lines[-1]), subject=path)
        for number, raw in enumerate(text.splitlines(), 1):  # dbt model configs in YAML
            match = _PARTITION_EXPIRY.search(raw.split("#", 1)[0])
            if match:
                value = int(match.group(2))
                days = value if match.group(1) == "partition_expiration_days" else value // 24
                attrs = PrivacyRetention(mechanism="bigquery_expiration", resource=f"{path}:{match.group(1)}",
                                         days=days, enabled=True, automatic=True)
                yield ctx.evidence("privacy.retention", attrs, path=path, lines=(number, number), subject=f"{path}:{number}")


def _mlscan(ctx: ProbeContext, path: str, docs: list[Any]) -> Iterator[Evidence]:
    doc = docs[0] if docs else None
    context = doc.get("context") if isinstance(doc, YMap) else None
    if isinstance(context, YMap) and context.get("regulated") is True:
        attrs = PrivacyPersonalData(source="mlscan_context", fields=[], count=0)
        yield ctx.evidence("privacy.personal_data", attrs, path=path, lines=context.key_span("regulated"), subject=path)


def _code(ctx: ProbeContext) -> Iterator[Evidence]:
    runs = runs_by_path(ctx)
    for path, pyfile in sorted(ctx.facts.python.files.items()):
        for tool, prefix in (("scrubadub", "scrubadub."), ("pii_codex", "pii_codex.")):
            calls = [c for c in pyfile.calls if c.name.startswith(prefix)]
            if not calls:
                continue
            reasons = []
            if pyfile.notebook:
                reasons.append("notebook only")
            elif re.search(r"(?:^|/)tests?/|(?:^|/)test_[^/]*\.py$|_test\.py$", path):
                reasons.append("only in tests")
            in_ci = any(not r.dead for r in runs.get(path, []))
            attrs = PrivacyPiiProtection(tool=tool, where="code", in_ci=in_ci)  # type: ignore[arg-type]
            yield ctx.evidence("privacy.pii_protection", attrs, path=path,
                               lines=(min(c.line for c in calls), max(c.end_line for c in calls)),
                               subject=f"{tool}:{path}", strength=Strength.mention if reasons else Strength.configured,
                               downgrades=reasons)


def collect(ctx: ProbeContext) -> Iterator[Evidence]:
    ci = ctx.facts.ci
    ci_files = {p.path for p in ci.pipelines} | set(ci.unreadable)
    for path in ctx.paths:
        if path.endswith((".tf", ".tf.json")):
            yield from _terraform(ctx, path)
    applied = _applied_lifecycle_files(ctx)
    for path in ctx.paths:
        if path.endswith(".json") and not path.endswith(".tf.json") and "lifecycle" in posixpath.basename(path).lower():
            doc = ctx.facts.json(path)
            if doc is None:
                yield ctx.unknown("privacy.retention", ctx.facts.problems.get(path, "could not be parsed"), path=path)
                continue
            found = _lifecycle_json(doc)
            if found is None:
                continue
            mechanism, days, enabled = found
            reasons = [] if path in applied else ["lifecycle file is not applied by IaC or a CI step"]
            if not enabled:
                reasons.append("no rule is Enabled")
            attrs = PrivacyRetention(mechanism=mechanism, resource=path, days=days, enabled=enabled, automatic=path in applied)
            line = ctx.facts.find_line(path, '"rule"' if mechanism == "gcs_lifecycle" else '"Rules"') or 1
            yield ctx.evidence("privacy.retention", attrs, path=path, lines=(line, line), subject=path,
                               strength=Strength.mention if reasons else Strength.configured, downgrades=reasons)
    masking_refs = False
    for item in _yaml(ctx, [p for p in ctx.paths if p.endswith((".yml", ".yaml"))], ci_files):
        if isinstance(item, str):
            masking_refs = True
        else:
            yield item
    yield from _sql(ctx, [p for p in ctx.paths if p.endswith(".sql")], masking_refs)
    yield from _ci_purges(ctx)
    for path, reason in sorted(ci.unreadable.items()):
        yield ctx.unknown("privacy.retention", reason, path=path)
    yield from _code(ctx)


PROBE = Probe(
    id="privacy",
    title="Privacy and retention automation: lifecycle expiration, scheduled deletion, PII scrubbing and masking, personal-data declarations",
    patterns=("**/*.tf", "**/*.tf.json", "**/*lifecycle*.json", "**/*.yml", "**/*.yaml", "**/*.sql", ".mlscan.yaml"),
    kinds=(
        Kind("privacy.retention", PrivacyRetention,
             "Data expires automatically: object-store lifecycle, BigQuery expiration, scheduled purge jobs, dvc gc"),
        Kind("privacy.pii_protection", PrivacyPiiProtection, "PII scrubbing in pipeline code (scrubadub, pii-codex) or dbt column masking"),
        Kind("privacy.personal_data", PrivacyPersonalData,
             "The repository declares personal data (PII-flagged fields) or regulated context"),
    ),
    collect=collect,
    python_tokens=(r"import[ \t]+(?:scrubadub|pii_codex)\b", r"from[ \t]+(?:scrubadub|pii_codex)\b"),
)
