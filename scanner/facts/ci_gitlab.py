"""GitLab CI (``.gitlab-ci.yml`` and its local includes) as :class:`~scanner.facts.ci.Pipeline`.

What the normalisation decides, and why:

- ``include:`` of local files (``include: 'ci/x.yml'``, ``- local: ci/x.yml``, ``- ci/x.yml``,
  GitLab's ``*``/``**`` wildcards) is followed inside the repository, depth-bounded and without
  cycles; the including file overrides what it includes. Remote, template, project and component
  includes are not fetched: they are listed in ``Pipeline.unfollowed``.
- Hidden jobs (``.name``) are templates. ``extends:`` is resolved (bounded, last parent wins, hashes
  deep-merged), ``<<: *anchor`` merges come resolved from the YAML loader, ``!reference`` tags are
  resolved against the merged configuration. Global keywords are not jobs.
- Triggers come from ``workflow:rules`` and the job's ``rules:`` (or ``only``/``except``):
  ``$CI_PIPELINE_SOURCE == "schedule"`` -> schedule, ``"merge_request_event"`` -> pull_request,
  ``"push"`` -> push (and tag: tag pipelines are pushes), ``"web"`` -> manual,
  ``"api"``/``"trigger"``/``"pipeline"`` -> dispatch, ``$CI_COMMIT_TAG`` -> tag,
  ``$CI_COMMIT_BRANCH`` -> push; ``when: manual`` -> manual; ``when: never`` on every rule -> disabled.
- A job with no rules gets **push + pull_request**: GitLab runs it in every branch pipeline, and a
  merge request's branch is pushed, so its changes are tested before merge. Schedules, web and API
  pipelines also run such jobs, but whether they exist is configured outside the repository, so
  they are only credited when a rule names them. ``workflow:rules`` narrows every job.
- Schedules (and their cron) live in the project settings, so schedule triggers have no cron.
- ``allow_failure: true`` (also in a rule, or by default on a job-level ``when: manual``) and
  ``after_script`` (whose failures never fail the job) are non-blocking.
"""

from __future__ import annotations

import posixpath
import re
from typing import TYPE_CHECKING, Any, Iterable, Optional


from .ci import (
    ALL_TRIGGER_TYPES,
    Job,
    Pipeline,
    Step,
    Trigger,
    eval_condition,
    register,
    shell_non_blocking,
)
from .yamldoc import TaggedList, YList, YMap, as_list

if TYPE_CHECKING:
    from . import Facts

SYSTEM = "gitlab_ci"
GLOBAL_KEYWORDS = frozenset(
    ("stages", "variables", "default", "workflow", "include", "image", "services", "before_script",
     "after_script", "cache", "types", "spec")
)
DEFAULT_TRIGGERS = frozenset(("push", "pull_request"))
MAX_INCLUDE_DEPTH = 10
MAX_INCLUDED_FILES = 150  # GitLab's own limit
MAX_EXTENDS_DEPTH = 11  # GitLab's own limit
MAX_REFERENCE_DEPTH = 10
SCRIPT_KEYS = ("before_script", "script", "after_script")

# $CI_PIPELINE_SOURCE values -> trigger types
_SOURCES: dict[str, frozenset] = {
    "push": frozenset({"push", "tag"}),
    "merge_request_event": frozenset({"pull_request"}),
    "external_pull_request_event": frozenset({"pull_request"}),
    "schedule": frozenset({"schedule"}),
    "web": frozenset({"manual"}),
    "webide": frozenset({"manual"}),
    "chat": frozenset({"manual"}),
    "api": frozenset({"dispatch"}),
    "trigger": frozenset({"dispatch"}),
    "pipeline": frozenset({"dispatch"}),
    "parent_pipeline": frozenset({"dispatch"}),
}
# only:/except: keywords -> trigger types (any other entry is a branch name or ref pattern)
_REFS: dict[str, frozenset] = {
    "branches": frozenset({"push"}),
    "pushes": frozenset({"push", "tag"}),
    "tags": frozenset({"tag"}),
    "merge_requests": frozenset({"pull_request"}),
    "external_pull_requests": frozenset({"pull_request"}),
    "schedules": frozenset({"schedule"}),
    "web": frozenset({"manual"}),
    "chat": frozenset({"manual"}),
    "api": frozenset({"dispatch"}),
    "triggers": frozenset({"dispatch"}),
    "pipelines": frozenset({"dispatch"}),
}
_NULL = r"(?:null|\"\"|'')"
_QUOTED = r"[\"']([^\"']*)[\"']"

Layer = tuple[str, YMap]  # (file, mapping)


# -- loading ------------------------------------------------------------------------------


def _is_reference(value: Any) -> bool:
    """A ``!reference [job, key, ...]`` tag, resolved later against the merged configuration."""
    return isinstance(value, TaggedList) and value.tag == "!reference"


def _config_doc(docs: list[Any]) -> Any:
    """The configuration document: the second one when the first is a ``spec:`` header."""
    if len(docs) >= 2 and isinstance(docs[0], dict) and "spec" in docs[0]:
        return docs[1]
    return docs[0] if docs else None


# -- the merged configuration ----------------------------------------------------------------


class _Config:
    """Every file of the configuration, lowest priority first (an included file before the
    file including it), with lookups that follow GitLab's override order."""

    def __init__(self) -> None:
        self.files: list[Layer] = []
        self.unfollowed: list[tuple[str, str]] = []

    def layers_of(self, name: str) -> list[Layer]:
        return [(p, m[name]) for p, m in self.files if isinstance(m.get(name), YMap)]

    def top(self, key: str) -> tuple[Any, Optional[Layer]]:
        for path, mapping in reversed(self.files):
            if key in mapping:
                return mapping[key], (path, mapping)
        return None, None

    def job_layers(self, name: str, depth: int = 0, stack: tuple[str, ...] = ()) -> list[Layer]:
        """The layers of a job after ``extends:``: parents first (later parents win), then its own."""
        own = self.layers_of(name)
        extends = _get(own, "extends")[0]
        base: list[Layer] = []
        if extends and depth < MAX_EXTENDS_DEPTH:
            for parent in as_list(extends):
                if isinstance(parent, str) and parent not in stack and parent != name:
                    base += self.job_layers(parent, depth + 1, stack + (name,))
        return base + own

    def resolve(self, value: Any, depth: int = 0) -> Any:
        """``value`` with a top-level ``!reference`` replaced by what it points at."""
        if not _is_reference(value) or depth > MAX_REFERENCE_DEPTH:
            return value
        keys = [k for k in value if isinstance(k, (str, int))]
        if not keys:
            return None
        layers = self.job_layers(str(keys[0]))
        current: Any = _get(layers, str(keys[1]))[0] if len(keys) > 1 else (layers[-1][1] if layers else None)
        if not layers:
            current = self.top(str(keys[0]))[0]
            if len(keys) > 1:
                current = current.get(keys[1]) if isinstance(current, dict) else None
        for key in keys[2:]:
            current = self.resolve(current, depth + 1)
            current = current.get(key) if isinstance(current, dict) else None
        return self.resolve(current, depth + 1)

    def flatten(self, value: Any, depth: int = 0) -> list[Any]:
        """A script or rules list with references resolved and nested lists flattened."""
        value = self.resolve(value)
        if isinstance(value, list) and not _is_reference(value) and depth <= MAX_REFERENCE_DEPTH:
            out: list[Any] = []
            for item in value:
                item = self.resolve(item)
                out += self.flatten(item, depth + 1) if isinstance(item, list) else [item]
            return out
        return [] if value is None else [value]


def _get(layers: list[Layer], key: str) -> tuple[Any, Optional[Layer]]:
    """The value of ``key`` from the highest-priority layer that sets it, with that layer."""
    for path, mapping in reversed(layers):
        if key in mapping:
            return mapping[key], (path, mapping)
    return None, None


def _merged(layers: list[Layer], key: str) -> Any:
    """Hashes deep-merge across layers (GitLab's rule for extends and includes); others replace."""
    result: Any = None
    for _, mapping in layers:
        if key not in mapping:
            continue
        value = mapping[key]
        if isinstance(value, dict) and isinstance(result, dict):
            result = _deep_merge(result, value)
        else:
            result = dict(value) if isinstance(value, dict) else value
    return result


def _deep_merge(base: dict, over: dict, depth: int = 0) -> dict:
    merged = dict(base)
    for key, value in over.items():
        if depth < 20 and isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value, depth + 1)
        else:
            merged[key] = value
    return merged


# -- includes ---------------------------------------------------------------------------------


def _include_refs(value: Any) -> Iterable[tuple[str, str]]:
    """(kind, reference) for each entry of ``include:``."""
    for item in as_list(value):
        if isinstance(item, str):
            yield ("remote" if re.match(r"https?://", item) else "local"), item
        elif isinstance(item, dict):
            for kind in ("local", "remote", "template", "component"):
                if isinstance(item.get(kind), str):
                    yield kind, item[kind]
                    break
            else:
                if item.get("project") is not None:
                    files = ", ".join(str(f) for f in as_list(item.get("file")))
                    yield "project", f"{item.get('project')}: {files}"


def _wildcard(pattern: str) -> "re.Pattern[str]":
    """GitLab's wildcard grammar for local includes: only ``**/``, ``**`` and ``*`` are special."""
    out = re.escape(pattern)
    out = out.replace(r"\*\*/", "(?:.*/)?").replace(r"\*\*", ".*").replace(r"\*", "[^/]*")
    return re.compile(out + r"\Z")


def _local_targets(facts: "Facts", reference: str) -> list[str]:
    ref = reference.strip().lstrip("/")
    if "*" in ref:
        rx = _wildcard(ref)
        return [p for p in facts.snapshot.paths() if rx.match(p) and p.endswith((".yml", ".yaml"))]
    ref = posixpath.normpath(ref)
    return [ref] if ref in facts.snapshot else []


def _collect(facts: "Facts", path: str, doc: YMap, config: _Config, depth: int, seen: set[str]) -> None:
    """Add ``doc`` and, before it, what it includes (recursively)."""
    for kind, reference in _include_refs(doc.get("include")):
        if kind != "local":
            config.unfollowed.append((f"{kind}: {reference}", f"{kind} include not fetched; its jobs are not seen"))
            continue
        if "$" in reference:
            config.unfollowed.append((reference, "include path uses variables; not resolved"))
            continue
        targets = _local_targets(facts, reference)
        if not targets:
            config.unfollowed.append((reference, "local include not found in the repository"))
        for target in targets:
            if target in seen:
                continue
            if depth + 1 > MAX_INCLUDE_DEPTH or len(seen) >= MAX_INCLUDED_FILES:
                config.unfollowed.append((target, "include depth or count limit reached; not followed"))
                continue
            seen.add(target)
            docs = facts.yaml(target)
            if docs is None:
                config.unfollowed.append((target, facts.problems.get(target, "unreadable")))
                continue
            sub = _config_doc(docs)
            if sub is None:
                continue
            if not isinstance(sub, YMap):
                config.unfollowed.append((target, "included file is not a mapping"))
                continue
            _collect(facts, target, sub, config, depth + 1, seen)
    config.files.append((path, doc))


# -- parser -----------------------------------------------------------------------------------


@register(r"\.gitlab-ci\.yml", suffixes=(".yml",))
def parse_gitlab_ci(facts: "Facts", path: str) -> Optional[Pipeline]:
    docs = facts.yaml(path)
    if docs is None:
        return None
    root = _config_doc(docs)
    if root is None:
        return Pipeline(system=SYSTEM, path=path, name=path, start_line=1, end_line=1)
    if not isinstance(root, YMap):
        return None
    config = _Config()
    _collect(facts, path, root, config, 0, {path})
    over, implicit = _workflow_sources(config)
    pipeline = Pipeline(
        system=SYSTEM,
        path=path,
        name=path,
        start_line=root.span[0],
        end_line=root.span[1],
        env=_variables(config.top("variables")[0]),
        unfollowed=config.unfollowed,
    )
    for name in _job_names(config):
        job = _job(config, name, over, implicit, pipeline.env)
        if job is not None:
            pipeline.jobs.append(job)
    pipeline.triggers = _pipeline_triggers(pipeline.jobs)
    return pipeline


def _job_names(config: _Config) -> list[str]:
    names: list[str] = []
    seen: set[str] = set()
    for _, mapping in reversed(config.files):
        for key, value in mapping.items():
            if (isinstance(key, str) and key not in GLOBAL_KEYWORDS and not key.startswith(".")
                    and isinstance(value, YMap) and key not in seen):
                seen.add(key)
                names.append(key)
    return names


def _pipeline_triggers(jobs: list[Job]) -> tuple[Trigger, ...]:
    found: dict[str, Trigger] = {}
    for job in jobs:
        if job.disabled:
            continue
        for trigger in job.triggers:
            found.setdefault(trigger.type, trigger)
    return tuple(found[t] for t in sorted(found))


def _job(config: _Config, name: str, over: Optional[frozenset], implicit: frozenset, global_env: dict) -> Optional[Job]:
    layers = config.job_layers(name)
    if not any(k in m for _, m in layers for k in ("script", "trigger", "run")):
        return None  # not a runnable job (GitLab would reject it)
    home_path, home = next((p, m) for p, m in reversed(config.files) if isinstance(m.get(name), YMap))
    start, end = home.key_span(name)
    when = _get(layers, "when")[0]
    triggers, disabled, rule_failure = _job_triggers(config, name, layers, over, implicit, when, (home_path, start))
    job = Job(
        id=name,
        name=name,
        path=home_path,
        start_line=start,
        end_line=end,
        triggers=triggers,
        environment=_environment(_merged(layers, "environment")),
        non_blocking=_allow_failure(layers, rule_failure),
        disabled=disabled,
        needs=_needs(_get(layers, "needs")[0]),
        env={**global_env, **_variables(_merged(layers, "variables"))},
        image=_image(_get(layers, "image")[0] or _default(config, layers, "image")[0]),
    )
    job.steps = _steps(config, layers)
    return job


# -- triggers ---------------------------------------------------------------------------------


class _Atoms:
    """Evaluates one GitLab expression atom to trigger types (None: does not constrain them).

    ``base`` is what "any pipeline" means here (for negations); ``named`` collects the trigger
    types an expression names explicitly; ``unknown`` notes atoms that test other variables,
    which make a rule conditional (it may or may not match at run time)."""

    def __init__(self, base: frozenset, branch: frozenset):
        self.base = base
        self.branch = branch
        self.named: set[str] = set()
        self.unknown = False

    def __call__(self, text: str) -> Optional[frozenset]:
        result = self._eval(text.strip())
        if result is None:
            self.unknown = True
        return result

    def _eval(self, text: str) -> Optional[frozenset]:
        m = re.fullmatch(rf"\$CI_PIPELINE_SOURCE\s*(==|!=)\s*{_QUOTED}", text) or \
            re.fullmatch(rf"{_QUOTED}\s*(==|!=)\s*\$CI_PIPELINE_SOURCE", text)
        if m:
            op, source = (m.group(1), m.group(2)) if text.startswith("$") else (m.group(2), m.group(1))
            kinds = _SOURCES.get(source, frozenset({"dispatch"}))
            return self._named(kinds) if op == "==" else self.base - kinds
        m = re.fullmatch(r"\$CI_PIPELINE_SOURCE\s*(=~|!~)\s*/(.*)/\w*", text)
        if m:
            try:
                rx = re.compile(m.group(2))
            except re.error:
                return None
            kinds = frozenset().union(*[k for s, k in _SOURCES.items() if rx.search(s)])
            return self._named(kinds) if m.group(1) == "=~" else self.base - kinds
        for variable, kinds in (("CI_COMMIT_TAG", frozenset({"tag"})),
                                (r"CI_MERGE_REQUEST_\w+", frozenset({"pull_request"})),
                                ("CI_EXTERNAL_PULL_REQUEST_IID", frozenset({"pull_request"})),
                                ("CI_PIPELINE_TRIGGERED", frozenset({"dispatch"}))):
            if re.match(rf"\${variable}\b", text):
                return self._presence(text, variable, kinds)
        if re.fullmatch(r"\$CI_COMMIT_BRANCH(?:\s*(?:==|=~|!=|!~)\s*(?!null\b).+)?", text):
            return self.branch
        if re.fullmatch(rf"\$CI_COMMIT_BRANCH\s*==\s*{_NULL}", text):
            return self._named(frozenset({"pull_request", "tag"}))
        return None

    def _presence(self, text: str, variable: str, kinds: frozenset) -> Optional[frozenset]:
        """``$VAR`` / ``$VAR != null`` / ``$VAR == "x"`` -> kinds; ``$VAR == null`` -> not kinds;
        anything else (``$CI_COMMIT_TAG != "v1"``) does not constrain the source."""
        if re.fullmatch(rf"\${variable}\s*==\s*{_NULL}", text):
            return self.base - kinds
        if re.fullmatch(rf"\${variable}(?:\s*!=\s*{_NULL}|\s*(?:==|=~)\s*.+)?", text):
            return self._named(kinds)
        return None

    def _named(self, kinds: frozenset) -> frozenset:
        self.named |= kinds
        return kinds


def _workflow_sources(config: _Config) -> tuple[Optional[frozenset], frozenset]:
    """(sources the workflow can allow at all, or None; sources a rule-less job runs on).

    The first is an over-approximation used to cut jobs' explicit rules; the second keeps the
    push + pull_request default unless the workflow names other sources explicitly.
    """
    workflow = config.top("workflow")[0]
    rules = config.flatten(workflow.get("rules")) if isinstance(workflow, dict) else []
    if not rules:
        return None, DEFAULT_TRIGGERS
    everything = ALL_TRIGGER_TYPES
    atoms = _Atoms(everything, everything - {"pull_request", "tag", "release"})
    allowed: set[str] = set()
    remaining = set(everything)
    for rule in rules:
        if not isinstance(rule, dict):
            continue
        atoms.unknown = False
        matched = _rule_set(rule, atoms, everything)
        conditional = atoms.unknown or "changes" in rule or "exists" in rule
        if rule.get("when") != "never":
            allowed |= matched & remaining
        if not conditional:
            remaining -= matched
    over = frozenset(allowed)
    if over >= everything - {"release"}:
        return None, DEFAULT_TRIGGERS
    implicit = over & (DEFAULT_TRIGGERS | atoms.named)
    return over, implicit or over


def _rule_set(rule: dict, atoms: _Atoms, base: frozenset) -> frozenset:
    expr = rule.get("if")
    if expr is None:
        return base
    result = eval_condition(str(expr), atoms)
    return base if result is None else result


def _job_triggers(
    config: _Config,
    name: str,
    layers: list[Layer],
    over: Optional[frozenset],
    implicit: frozenset,
    when: Any,
    home: tuple[str, int],
) -> tuple[tuple[Trigger, ...], Optional[str], Optional[str]]:
    """(triggers, why disabled, why non-blocking by a rule's allow_failure)."""
    rules_value, rules_layer = _get(layers, "rules")
    if rules_value is not None:
        return _rules_triggers(config, rules_value, rules_layer, over, implicit, when)
    only, only_layer = _get(layers, "only")
    excepted = _get(layers, "except")[0]
    path, line = home
    if only_layer is not None:
        path, line = only_layer[0], only_layer[1].key_span("only")[0]
    kinds, paths = _only_except(only, excepted, over, implicit)
    if when == "never":
        return (), "`when: never`", None
    if when == "manual":
        return ((Trigger(type="manual", line=line, path=path),) if kinds else ()), None, None
    return tuple(Trigger(type=k, paths=paths, line=line, path=path) for k in sorted(kinds)), None, None  # type: ignore[arg-type]


def _rules_triggers(
    config: _Config,
    rules_value: Any,
    rules_layer: Optional[Layer],
    over: Optional[frozenset],
    implicit: frozenset,
    job_when: Any,
) -> tuple[tuple[Trigger, ...], Optional[str], Optional[str]]:
    rules = config.flatten(rules_value)
    path, mapping = rules_layer if rules_layer else ("", YMap())
    spans = rules_value if isinstance(rules_value, YList) and not _is_reference(rules_value) else None
    # a rule's line: its own item, or the `rules:` key when it came through a !reference
    fallback_line = mapping.key_span("rules")[0] if isinstance(mapping, YMap) else 0
    span_of = {id(item): spans.item_span(i)[0] for i, item in enumerate(spans)} if spans is not None else {}
    atoms = _Atoms(implicit, implicit - {"pull_request", "tag", "release"})
    remaining = set(ALL_TRIGGER_TYPES)
    found: dict[str, Trigger] = {}
    runs = False
    failure: Optional[str] = None
    for index, rule in enumerate(rules):
        if not isinstance(rule, dict):
            continue
        line = span_of.get(id(rule), fallback_line)
        atoms.unknown = False
        matched = _rule_set(rule, atoms, implicit)
        if over is not None and rule.get("if") is not None:
            matched = matched & over
        conditional = atoms.unknown or "changes" in rule or "exists" in rule
        when = rule.get("when") or job_when or "on_success"
        live = matched & remaining
        if when != "never":
            runs = True
            if live:
                changes = tuple(str(c) for c in _changes(rule.get("changes")))
                if when == "manual":
                    found.setdefault("manual", Trigger(type="manual", line=line, path=path))
                else:
                    for kind in sorted(live):
                        found.setdefault(kind, Trigger(type=kind, paths=changes, line=line, path=path))  # type: ignore[arg-type]
                if rule.get("allow_failure") is True:
                    failure = "`allow_failure: true` in a rule"
        if not conditional:
            remaining -= matched
    disabled = None if runs else "`when: never` on every rule"
    return tuple(found[k] for k in sorted(found)), disabled, failure


def _changes(value: Any) -> list[Any]:
    if isinstance(value, dict):
        value = value.get("paths")
    return [v for v in as_list(value) if isinstance(v, (str, int))]


def _only_except(only: Any, excepted: Any, over: Optional[frozenset], implicit: frozenset) -> tuple[frozenset, tuple[str, ...]]:
    """Trigger types of the legacy ``only:``/``except:`` keywords."""
    paths: tuple[str, ...] = ()
    kinds: Optional[frozenset] = None
    if only is not None:
        refs = only.get("refs") if isinstance(only, dict) else only
        if refs is not None:
            kinds = frozenset().union(*[_REFS.get(str(r), frozenset({"push"})) for r in as_list(refs)])
        if isinstance(only, dict):
            variables = [v for v in as_list(only.get("variables")) if isinstance(v, str)]
            if variables:
                atoms = _Atoms(implicit, implicit - {"pull_request", "tag", "release"})
                results = [eval_condition(v, atoms) for v in variables]
                known = None if any(r is None for r in results) else frozenset().union(*results)
                if known is not None:
                    kinds = known if kinds is None else kinds & known
            paths = tuple(str(c) for c in _changes(only.get("changes")))
    result = implicit if kinds is None else kinds
    if excepted is not None:
        refs = excepted.get("refs") if isinstance(excepted, dict) else excepted
        for ref in as_list(refs):
            if str(ref) in _REFS:
                result = result - _REFS[str(ref)]
    if over is not None and kinds is not None:
        result = result & over
    return result, paths


# -- job details ------------------------------------------------------------------------------


def _default(config: _Config, layers: list[Layer], key: str) -> tuple[Any, Optional[Layer]]:
    """A job's fallback from ``default:`` (or the legacy global keyword), unless ``inherit`` says no."""
    inherit = _merged(layers, "inherit")
    wanted = inherit.get("default", True) if isinstance(inherit, dict) else True
    if wanted is False or (isinstance(wanted, list) and key not in wanted):
        return None, None
    for path, mapping in reversed(config.files):
        default = mapping.get("default")
        if isinstance(default, YMap) and key in default:
            return default[key], (path, default)
        if key in mapping and key in GLOBAL_KEYWORDS:
            return mapping[key], (path, mapping)
    return None, None


def _steps(config: _Config, layers: list[Layer]) -> list[Step]:
    steps: list[Step] = []
    for key in SCRIPT_KEYS:
        value, layer = _get(layers, key)
        if value is None and key != "script":
            value, layer = _default(config, layers, key)
        if value is None or layer is None:
            continue
        lines = [str(v) for v in config.flatten(value) if isinstance(v, (str, int, float))]
        path, mapping = layer
        start, end = mapping.key_span(key)
        step = Step(name=key, start_line=start, end_line=end, run="\n".join(lines), path=path)
        if key == "after_script":
            step.non_blocking = "`after_script` failures do not fail the job"
        else:
            reasons = [shell_non_blocking(c) for c in step.commands()]
            if reasons and all(reasons):
                step.non_blocking = reasons[0]
        steps.append(step)
    trigger, layer = _get(layers, "trigger")
    if trigger is not None and layer is not None:
        target = trigger.get("project") or trigger.get("include") if isinstance(trigger, dict) else trigger
        start, end = layer[1].key_span("trigger")
        steps.append(Step(name="trigger", start_line=start, end_line=end, uses=f"trigger: {target}", path=layer[0]))
    return steps


def _allow_failure(layers: list[Layer], rule_failure: Optional[str]) -> Optional[str]:
    value, _ = _get(layers, "allow_failure")
    if value is True:
        return "`allow_failure: true`"
    if isinstance(value, dict):
        codes = {c for c in as_list(value.get("exit_codes")) if isinstance(c, int)}
        return "`allow_failure: exit_codes` includes 1" if 1 in codes else None
    if value is None and rule_failure:
        return rule_failure
    if value is None and _get(layers, "when")[0] == "manual" and _get(layers, "rules")[0] is None:
        return "`when: manual` jobs default to `allow_failure: true`"
    return None


def _environment(value: Any) -> Optional[str]:
    if isinstance(value, dict):
        value = value.get("name")
    return str(value) if isinstance(value, (str, int, float)) else None


def _image(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("name")
    return str(value) if isinstance(value, (str, int, float)) else ""


def _needs(value: Any) -> tuple[str, ...]:
    found: list[str] = []
    for item in as_list(value):
        if isinstance(item, dict):
            item = item.get("job")
        if isinstance(item, str):
            found.append(item)
    return tuple(found)


def _variables(value: Any) -> dict:
    if not isinstance(value, dict):
        return {}
    out: dict = {}
    for key, item in value.items():
        if isinstance(item, dict):
            item = item.get("value")
        if isinstance(item, (str, int, float, bool)) or item is None:
            out[str(key)] = "" if item is None else str(item)
    return out
