"""GitOps delivery (Argo CD, Flux) and rollback commands documented in runbooks.

Covers RUBRIC §3.3 MD-k (automated CD: a GitOps controller deploys what is committed), MD-j
(one Application/Kustomization per environment), MD-o (a rollback mechanism wired to CI *or a
runbook*; CI is ``ci.job.rollback``, runbooks are here) and the Flux half of automated rollback
(a HelmRelease whose failed upgrade is remediated by a rollback). §5.1 "GitOps CD".

Only YAML files that mention ``argoproj.io`` or ``fluxcd.io`` are read (one grep over the YAML
paths), and only Argo CD ``Application``/``ApplicationSet`` and the Flux kinds are looked at:
Argo Rollouts and analysis templates belong to the serving probe. Helm chart templates are not
manifests and are not parsed. Runbooks are Markdown; a rollback counts only when the command sits
in a code block or on a command line of its own, never when prose merely names it.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Literal, Optional

from pydantic import model_validator

from scanner.facts.needles import Needles
from scanner.facts.yamldoc import Manifest, YMap
from scanner.facts.yamldoc import dig as _dig
from scanner.facts.yamldoc import entry_span as _key_span
from scanner.facts.yamldoc import span as _span
from scanner.models import Evidence, Strength
from scanner.patterns import lazy
from scanner.probe import Attributes, Kind, Probe, ProbeContext

# --------------------------------------------------------------------------------------------
# attribute models
# --------------------------------------------------------------------------------------------


class GitopsApp(Attributes):
    tool: Literal["argocd", "flux"]
    kind: str  # Application, ApplicationSet, Kustomization, HelmRelease
    name: str
    source: Optional[str]  # repo URL (resolved through the Flux source object when it is in the repo)
    revision: Optional[str]
    path: Optional[str]  # path inside the source (a chart path for HelmRelease from a GitRepository)
    chart: Optional[str]
    namespace: Optional[str]
    cluster: Optional[str]
    automated: bool  # the controller syncs on its own (Argo automated sync; Flux not suspended)
    prune: bool
    self_heal: bool
    suspended: bool
    source_in_repo: Optional[bool]  # the source is this repository (by remote URL); None: unknown
    path_in_repo: Optional[bool]  # the path exists in this repository; None: not checkable
    environments: list[str]
    image_updater: bool = False  # Argo CD Image Updater annotations bump the image in git


class HelmRemediation(Attributes):
    name: str
    upgrade_retries: Optional[int]
    install_retries: Optional[int]
    remediate_last_failure: bool
    strategy: Literal["rollback", "uninstall"]
    tests: bool  # helm tests run after install/upgrade, so a failing test triggers remediation
    rollback: bool  # a failed upgrade is rolled back automatically


class ImageAutomation(Attributes):
    kind: Literal["ImageUpdateAutomation", "ImagePolicy"]
    name: str
    policy: Optional[str]  # semver range / numerical / alphabetical (ImagePolicy)
    update_path: Optional[str]  # where tags are written back (ImageUpdateAutomation)
    push_branch: Optional[str]
    suspended: bool


class GitopsEnvironments(Attributes):
    environments: list[str]
    environment_count: int = 0
    automated_environments: list[str]
    automated_count: int = 0

    @model_validator(mode="after")
    def _count(self) -> "GitopsEnvironments":
        self.environment_count = len(self.environments)
        self.automated_count = len(self.automated_environments)
        return self


class RunbookRollback(Attributes):
    tool: Literal["helm", "kubectl", "argo-rollouts", "argocd", "gto", "mlflow", "sagemaker", "azureml", "script"]
    command: str
    block: Literal["fenced", "indented", "command_line"]  # command_line: a `$ ` line or a line that is only code


# --------------------------------------------------------------------------------------------
# manifests
# --------------------------------------------------------------------------------------------

_NEEDLES = Needles(["argoproj.io", "fluxcd.io"])
_YAML = lazy(r"\.ya?ml$")
_KIND_LINE = lazy(r"^kind:\s*['\"]?(\w+)", re.M)
_ARGO_KINDS = frozenset({"Application", "ApplicationSet"})
_FLUX_APPS = frozenset({"Kustomization", "HelmRelease"})
_FLUX_SOURCES = frozenset({"GitRepository", "OCIRepository", "HelmRepository", "Bucket"})
_FLUX_IMAGE = frozenset({"ImageUpdateAutomation", "ImagePolicy"})
_MAX_ITEMS = 200

_ENV_SYNONYMS = {
    "dev": "dev", "develop": "dev", "development": "dev", "test": "test", "testing": "test", "qa": "qa",
    "uat": "uat", "stage": "staging", "staging": "staging", "stg": "staging", "preprod": "preprod",
    "pre-prod": "preprod", "prod": "prod", "production": "prod", "prd": "prod", "sandbox": "sandbox",
    "live": "prod",
}


_Doc = Manifest  # a Kubernetes document and its file (scanner.facts.yamldoc)


def _is_ours(kind: str, api: str) -> bool:
    if api.startswith("argoproj.io"):
        return kind in _ARGO_KINDS
    if ".toolkit.fluxcd.io" in api:
        return kind in _FLUX_APPS | _FLUX_SOURCES | _FLUX_IMAGE
    return False


def _chart_template(path: str, charts: set[str]) -> bool:
    parts = path.split("/")
    return any(part == "templates" and "/".join(parts[:i]) in charts for i, part in enumerate(parts[:-1]))


def _manifests(ctx: ProbeContext) -> tuple[list[_Doc], list[Evidence]]:
    """Argo CD / Flux documents, and unknowns for files that name those kinds but do not parse."""
    charts = {posixpath.dirname(p) for p in ctx.paths if posixpath.basename(p) == "Chart.yaml"}
    paths = [p for p in ctx.paths if _YAML.search(p) and not _chart_template(p, charts)]
    docs: list[_Doc] = []
    unknowns: list[Evidence] = []
    for path, text in ctx.facts.grep(paths, _NEEDLES):
        parsed = ctx.facts.yaml(path)
        if parsed is None:
            if "{{" in text:
                continue  # a template of some generator, not a manifest
            kinds = set(_KIND_LINE.findall(text))
            reason = ctx.facts.problems.get(path, "malformed YAML")
            if kinds & (_ARGO_KINDS | _FLUX_APPS):
                unknowns.append(ctx.unknown("gitops.app", reason, path=path))
            if "HelmRelease" in kinds:
                unknowns.append(ctx.unknown("gitops.remediation", reason, path=path))
            if kinds & _FLUX_IMAGE:
                unknowns.append(ctx.unknown("gitops.image_automation", reason, path=path))
            continue
        for doc in parsed:
            if isinstance(doc, YMap) and _is_ours(str(doc.get("kind") or ""), str(doc.get("apiVersion") or "")):
                docs.append(_Doc(path, doc))
    return docs, unknowns


# -- cross-references -------------------------------------------------------------------------


def _norm_url(url: str) -> str:
    """``git@github.com:o/r.git``, ``ssh://git@github.com/o/r``, ``https://u:p@github.com/o/r/`` -> ``github.com/o/r``."""
    url = url.strip().lower()
    url = re.sub(r"^[a-z+]+://", "", url)
    url = re.sub(r"^[^@/]+@", "", url)
    url = re.sub(r"^([^/:]+):(?!\d+/)", r"\1/", url)  # scp-like host:path
    url = re.sub(r":\d+/", "/", url)
    return re.sub(r"(?:\.git)?/*$", "", url)


def _same_repo(ctx: ProbeContext, url: Optional[str]) -> Optional[bool]:
    remote = ctx.snapshot.remote
    if not url or not remote or url.startswith("oci://") or "://" not in url and "@" not in url:
        return None
    return _norm_url(url) == _norm_url(remote)


def _dirs(ctx: ProbeContext) -> set[str]:
    """Every directory of the snapshot (and "" for the root)."""
    def build() -> set[str]:
        found = {""}
        for path in ctx.snapshot.paths():
            parts = path.split("/")[:-1]
            for i in range(1, len(parts) + 1):
                found.add("/".join(parts[:i]))
        return found
    return ctx.memo("dirs", build)


def _clean_path(path: str) -> str:
    cleaned = posixpath.normpath(path.strip().lstrip("/")) if path.strip() else "."
    return "" if cleaned in (".", "./") else cleaned


def _path_exists(ctx: ProbeContext, path: str) -> bool:
    cleaned = _clean_path(path)
    return cleaned in _dirs(ctx) or cleaned in ctx.snapshot


def _env_of(*hints: Optional[str]) -> Optional[str]:
    """The environment a path, name or namespace names (``overlays/production`` -> prod)."""
    for hint in hints:
        if not hint:
            continue
        for token in reversed(re.split(r"[/_.\s-]+", hint.lower().replace("pre-prod", "preprod"))):
            if token in _ENV_SYNONYMS:
                return _ENV_SYNONYMS[token]
    return None


# -- Argo CD ----------------------------------------------------------------------------------


def _argo_source(spec: Any) -> dict:
    """The source of an Application spec; with several (``sources:``), the first with a path or chart."""
    source = _dig(spec, "source")
    if isinstance(source, dict):
        return source
    sources = [s for s in (_dig(spec, "sources") or []) if isinstance(s, dict)] if isinstance(_dig(spec, "sources"), list) else []
    return next((s for s in sources if s.get("path") or s.get("chart")), sources[0] if sources else {})


def _generator_envs(ctx: ProbeContext, generators: Any, depth: int = 0) -> tuple[list[str], list[str]]:
    """(environments, matched directories) an ApplicationSet's list/git/matrix generators produce."""
    envs: list[str] = []
    dirs: list[str] = []
    if not isinstance(generators, list) or depth > 3:
        return envs, dirs
    for generator in generators[:_MAX_ITEMS]:
        if not isinstance(generator, dict):
            continue
        for element in _dig(generator, "list", "elements") or []:
            if isinstance(element, dict):
                env = _env_of(*(str(element.get(k) or "") for k in ("env", "environment", "stage", "cluster", "name")))
                if env:
                    envs.append(env)
        for directory in _dig(generator, "git", "directories") or []:
            pattern = _dig(directory, "path")
            if isinstance(pattern, str) and _dig(directory, "exclude") is not True:
                matched = sorted(d for d in _dirs(ctx) if d and fnmatch.fnmatchcase(d, _clean_path(pattern)))
                dirs += matched[:_MAX_ITEMS]
                envs += [e for d in matched if (e := _env_of(posixpath.basename(d)))]
        for nested in ("matrix", "merge"):
            inner_envs, inner_dirs = _generator_envs(ctx, _dig(generator, nested, "generators"), depth + 1)
            envs += inner_envs
            dirs += inner_dirs
    return envs, dirs


def _argo_app(ctx: ProbeContext, item: _Doc) -> Evidence:
    spec = item.spec
    template_spec = spec
    generated_envs: list[str] = []
    generated_dirs: list[str] = []
    if item.kind == "ApplicationSet":
        template_spec = _dig(spec, "template", "spec") if isinstance(_dig(spec, "template", "spec"), dict) else YMap()
        generated_envs, generated_dirs = _generator_envs(ctx, spec.get("generators"))
    source = _argo_source(template_spec)
    url = str(source.get("repoURL")) if source.get("repoURL") else None
    path = str(source.get("path")) if source.get("path") is not None else None
    chart = str(source.get("chart")) if source.get("chart") else None
    destination = _dig(template_spec, "destination") if isinstance(_dig(template_spec, "destination"), dict) else {}
    automated = _dig(template_spec, "syncPolicy", "automated")
    is_automated = isinstance(automated, dict) and automated.get("enabled") is not False
    in_repo = _same_repo(ctx, url)
    path_ok: Optional[bool] = None
    downgrades: list[str] = []
    if path is not None and in_repo is not False:
        if "{{" in path or "$" in path:
            path_ok = bool(generated_dirs) if generated_dirs else None
        else:
            path_ok = _path_exists(ctx, path)
        if in_repo and path_ok is False:
            downgrades.append(f"source path {path} is not in this repository")
    if not is_automated:
        downgrades.append("manual sync only: nothing deploys until a person syncs")
    namespace = str(destination.get("namespace")) if destination.get("namespace") else None
    cluster = destination.get("name") or destination.get("server")
    envs = sorted(set(generated_envs)) if item.kind == "ApplicationSet" else sorted(
        {e} if (e := _env_of(path, item.name, namespace, str(cluster or ""))) else set())
    annotations = _dig(item.doc, "metadata", "annotations")
    attrs = GitopsApp(
        tool="argocd", kind=item.kind, name=item.name, source=url,
        revision=str(source.get("targetRevision")) if source.get("targetRevision") is not None else None,
        path=path, chart=chart, namespace=namespace, cluster=str(cluster) if cluster else None,
        automated=is_automated,
        prune=is_automated and automated.get("prune") is True,  # type: ignore[union-attr]
        self_heal=is_automated and automated.get("selfHeal") is True,  # type: ignore[union-attr]
        suspended=False, source_in_repo=in_repo, path_in_repo=path_ok, environments=envs,
        image_updater=isinstance(annotations, dict) and any(
            str(k).startswith("argocd-image-updater.argoproj.io/") for k in annotations),
    )
    return _app_evidence(ctx, item, attrs, downgrades)


def _app_evidence(ctx: ProbeContext, item: _Doc, attrs: GitopsApp, downgrades: list[str]) -> Evidence:
    """Configured when the controller deploys on its own from a source that is where it says."""
    return ctx.evidence("gitops.app", attrs, path=item.path, lines=_span(item.doc),
                        subject=f"{item.kind}/{item.namespace or ''}/{item.name}",
                        strength=Strength.mention if downgrades else Strength.configured, downgrades=downgrades)


# -- Flux -------------------------------------------------------------------------------------


def _source_index(docs: list[_Doc]) -> dict[tuple[str, str], _Doc]:
    return {(d.kind, d.name): d for d in docs if d.kind in _FLUX_SOURCES}


def _flux_source(ref: Any, sources: dict[tuple[str, str], _Doc]) -> tuple[Optional[str], Optional[str], Optional[str]]:
    """(kind, url, revision) of a ``sourceRef``; the url only when the source object is in the repo."""
    if not isinstance(ref, dict) or not ref.get("name"):
        return None, None, None
    kind = str(ref.get("kind") or "GitRepository")
    found = sources.get((kind, str(ref["name"])))
    if found is None:
        return kind, f"{kind}/{ref['name']}", None
    spec = found.spec
    ref_spec = spec.get("ref") if isinstance(spec.get("ref"), dict) else {}
    revision = next((str(ref_spec[k]) for k in ("branch", "tag", "semver", "name", "commit") if ref_spec.get(k)), None)
    return kind, str(spec.get("url")) if spec.get("url") else f"{kind}/{ref['name']}", revision


def _flux_app(ctx: ProbeContext, item: _Doc, sources: dict[tuple[str, str], _Doc]) -> Evidence:
    spec = item.spec
    suspended = spec.get("suspend") is True
    downgrades = ["suspended (spec.suspend: true): the controller does not reconcile it"] if suspended else []
    namespace = spec.get("targetNamespace") or item.namespace
    cluster = _dig(spec, "kubeConfig", "secretRef", "name")
    chart: Optional[str] = None
    path: Optional[str] = None
    if item.kind == "Kustomization":
        source_kind, url, revision = _flux_source(spec.get("sourceRef"), sources)
        path = str(spec.get("path")) if spec.get("path") is not None else "./"
        prune, self_heal = spec.get("prune") is True, not suspended
    else:
        chart_spec = _dig(spec, "chart", "spec") if isinstance(_dig(spec, "chart", "spec"), dict) else {}
        source_kind, url, revision = _flux_source(chart_spec.get("sourceRef") or spec.get("chartRef"), sources)
        chart = str(chart_spec.get("chart")) if chart_spec.get("chart") else None
        if chart_spec.get("version"):
            revision = str(chart_spec["version"])
        if source_kind in ("GitRepository", "Bucket") and chart:
            path = chart
        prune = True  # helm removes what the chart no longer renders
        self_heal = not suspended and _dig(spec, "driftDetection", "mode") == "enabled"
    in_repo = _same_repo(ctx, url) if source_kind == "GitRepository" else None
    path_ok: Optional[bool] = None
    if path is not None and source_kind == "GitRepository" and in_repo is not False:
        path_ok = _path_exists(ctx, path)
        if in_repo and not path_ok:
            downgrades.append(f"source path {path} is not in this repository")
    env = _env_of(path, item.name, str(namespace or ""), item.path)
    attrs = GitopsApp(
        tool="flux", kind=item.kind, name=item.name, source=url, revision=revision, path=path, chart=chart,
        namespace=str(namespace) if namespace else None, cluster=str(cluster) if cluster else None,
        automated=not suspended and spec.get("interval") is not None, prune=prune, self_heal=self_heal,
        suspended=suspended, source_in_repo=in_repo, path_in_repo=path_ok, environments=[env] if env else [],
    )
    if spec.get("interval") is None and not suspended:
        downgrades.append("no spec.interval: the object is incomplete")
    return _app_evidence(ctx, item, attrs, downgrades)


def _int(value: Any) -> Optional[int]:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _remediation(ctx: ProbeContext, item: _Doc) -> Optional[Evidence]:
    """HelmRelease ``upgrade.remediation``: Flux rolls a failed upgrade back on its own."""
    spec = item.spec
    upgrade = _dig(spec, "upgrade", "remediation")
    install = _dig(spec, "install", "remediation")
    if not isinstance(upgrade, dict) and not isinstance(install, dict) and not isinstance(spec.get("rollback"), dict):
        return None
    upgrade = upgrade if isinstance(upgrade, dict) else {}
    retries = _int(upgrade.get("retries"))
    last = upgrade.get("remediateLastFailure")
    remediate_last = last is True or (last is None and retries is not None and retries != 0)
    strategy = "uninstall" if upgrade.get("strategy") == "uninstall" else "rollback"
    rollback = bool(upgrade) and strategy == "rollback" and (remediate_last or (retries or 0) != 0)
    downgrades: list[str] = []
    if not upgrade:
        downgrades.append("no upgrade remediation: a failed upgrade is left in place")
    elif strategy != "rollback":
        downgrades.append("upgrade remediation uninstalls instead of rolling back")
    elif not rollback:
        downgrades.append("upgrade remediation has no retries and does not remediate the last failure")
    if spec.get("suspend") is True:
        downgrades.append("suspended (spec.suspend: true): the controller does not reconcile it")
    attrs = HelmRemediation(
        name=item.name, upgrade_retries=retries,
        install_retries=_int(install.get("retries")) if isinstance(install, dict) else None,
        remediate_last_failure=remediate_last, strategy=strategy,  # type: ignore[arg-type]
        tests=_dig(spec, "test", "enable") is True, rollback=rollback and spec.get("suspend") is not True,
    )
    key = "upgrade" if "upgrade" in spec else ("install" if "install" in spec else "rollback")
    return ctx.evidence("gitops.remediation", attrs, path=item.path, lines=_key_span(spec, key),
                        subject=f"HelmRelease/{item.namespace or ''}/{item.name}",
                        strength=Strength.mention if downgrades else Strength.configured, downgrades=downgrades)


def _image_automation(ctx: ProbeContext, item: _Doc, has_automation: bool) -> Evidence:
    spec = item.spec
    suspended = spec.get("suspend") is True
    downgrades = ["suspended (spec.suspend: true)"] if suspended else []
    policy: Optional[str] = None
    update_path: Optional[str] = None
    if item.kind == "ImagePolicy":
        rule = spec.get("policy") if isinstance(spec.get("policy"), dict) else {}
        for name, value in sorted(rule.items()):
            detail = value.get("range") or value.get("order") if isinstance(value, dict) else None
            policy = f"{name} {detail}" if detail else str(name)
            break
        if not has_automation:
            downgrades.append("no ImageUpdateAutomation writes the selected tag back to git")
    else:
        update_path = str(_dig(spec, "update", "path")) if _dig(spec, "update", "path") else None
        if update_path and not _path_exists(ctx, update_path):
            downgrades.append(f"update path {update_path} is not in this repository")
    branch = _dig(spec, "git", "push", "branch") or _dig(spec, "git", "checkout", "ref", "branch")
    attrs = ImageAutomation(kind=item.kind, name=item.name, policy=policy, update_path=update_path,  # type: ignore[arg-type]
                            push_branch=str(branch) if branch else None, suspended=suspended)
    return ctx.evidence("gitops.image_automation", attrs, path=item.path, lines=_span(item.doc),
                        subject=f"{item.kind}/{item.namespace or ''}/{item.name}",
                        strength=Strength.mention if downgrades else Strength.configured, downgrades=downgrades)


def _gitops(ctx: ProbeContext) -> Iterator[Evidence]:
    docs, unknowns = _manifests(ctx)
    yield from unknowns
    sources = _source_index(docs)
    has_automation = any(d.kind == "ImageUpdateAutomation" for d in docs)
    apps: list[Evidence] = []
    for item in docs:
        if item.kind in _ARGO_KINDS:
            apps.append(_argo_app(ctx, item))
        elif item.kind in _FLUX_APPS:
            if item.kind == "Kustomization" and not item.api.startswith("kustomize.toolkit.fluxcd.io"):
                continue
            apps.append(_flux_app(ctx, item, sources))
            if item.kind == "HelmRelease":
                found = _remediation(ctx, item)
                if found:
                    yield found
        elif item.kind in _FLUX_IMAGE:
            yield _image_automation(ctx, item, has_automation)
    yield from apps
    summary = _environments(ctx, apps)
    if summary:
        yield summary


def _environments(ctx: ProbeContext, apps: list[Evidence]) -> Optional[Evidence]:
    """The environments GitOps deploys to, and those it deploys to without a person."""
    envs: set[str] = set()
    automated: set[str] = set()
    first: Optional[Evidence] = None
    for app in apps:
        found = set(app.attributes["environments"])
        envs |= found
        if app.attributes["automated"] and not app.downgrades:
            automated |= found
        if found and first is None:
            first = app
    if first is None or first.citation is None:
        return None
    attrs = GitopsEnvironments(environments=sorted(envs), automated_environments=sorted(automated))
    cit = first.citation
    return ctx.evidence("gitops.environments", attrs, path=cit.path,
                        lines=(cit.start_line, cit.end_line) if cit.start_line else None,
                        strength=Strength.configured if automated else Strength.mention,
                        downgrades=[] if automated else ["no environment is deployed automatically"])


# --------------------------------------------------------------------------------------------
# runbooks
# --------------------------------------------------------------------------------------------

_RUNBOOK = lazy(
    r"(?:^|/)(?:run|play)[-_]?books?/(?:.+/)?[^/]+\.(?:md|markdown)$"
    r"|(?:^|/)(?:run|play)[-_]?books?[^/]*\.(?:md|markdown)$"
    r"|(?:^|/)[^/]*roll[-_]?back[^/]*\.(?:md|markdown)$",
    re.IGNORECASE,
)
_FENCE = lazy(r"^ {0,3}(`{3,}|~{3,})\s*([\w+-]*)")
_HEADING = lazy(r"^ {0,3}#{1,6}\s+(.*)$")
_PROMPT = lazy(r"^\s*\$\s+(.+)$")
_ALONE_CODE = lazy(r"^\s*(?:[-*+]\s+|\d+[.)]\s+)?`([^`]+)`\s*$")
_COMMENT = lazy(r"^\s*(?:#|//|--|REM\b|::)")
_CONTEXT = lazy(r"roll[-_ ]?back|revert|restore|previous|undo|older|last[-_ ]known[-_ ]good|prior", re.IGNORECASE)

# (tool, pattern, needs a rollback context): gto/mlflow/sagemaker/azureml commands also promote
_ROLLBACK_COMMANDS: tuple[tuple[str, "re.Pattern[str]", bool], ...] = tuple(
    (tool, lazy(rx), context)
    for tool, rx, context in (
        ("argo-rollouts", r"\bkubectl\s+argo\s+rollouts\s+(?:undo|abort)\b", False),
        ("kubectl", r"\bkubectl\b.*\brollout\s+undo\b", False),
        ("helm", r"\bhelm\s+rollback\s+\S", False),
        ("argocd", r"\bargocd\s+app\s+rollback\b", False),
        ("gto", r"\bgto\s+(?:assign|promote)\b", True),
        ("mlflow", r"\bset_registered_model_alias\s*\(|\btransition_model_version_stage\s*\(|registered-models/alias\b", True),
        ("sagemaker", r"\baws\s+sagemaker\s+update-endpoint\b.*--endpoint-config-name\b|\.update_endpoint\s*\(", True),
        ("azureml", r"\baz\s+ml\s+online-endpoint\s+update\b.*--traffic\b", True),
    )
)
_SCRIPT = lazy(r"(?:^|[\s/])((?:[\w.-]+/)*[\w.-]*roll[-_]?back[\w.-]*\.(?:sh|py))\b|\bmake\s+(?:-\S+\s+)*(roll[-_]?back[\w-]*)\b",
                     re.IGNORECASE)


@dataclass
class _CodeLine:
    text: str
    start: int
    end: int
    block: str  # fenced | indented | command_line
    context: str  # heading + preceding prose + comments above, for ambiguous commands


def _code_lines(lines: list[str]) -> Iterator[_CodeLine]:
    """Command lines of a Markdown file: fenced/indented code (continuations joined) and `$ ` lines.

    Prose never yields a line, nor does inline code inside a sentence; a line that is only an
    inline code span (a list item `` `helm rollback api 3` ``) counts as a command line.
    """
    heading, prose, comments = "", "", ""
    fence: Optional[str] = None
    previous_blank = True
    i = 0
    while i < len(lines):
        line = lines[i]
        if fence is not None:
            if line.strip().startswith(fence) and not line.strip().strip(fence[0]):
                fence = None
                comments = ""
            elif _COMMENT.match(line):
                comments += " " + line
            elif line.strip():
                start, text = i + 1, line
                while text.rstrip().endswith("\\") and i + 1 < len(lines):
                    i += 1
                    text = text.rstrip()[:-1].rstrip() + " " + lines[i].strip()
                prompt = _PROMPT.match(text)
                command = prompt.group(1) if prompt else text
                yield _CodeLine(command.strip(), start, i + 1, "fenced", f"{heading} {prose} {comments}")
            i += 1
            continue
        opened = _FENCE.match(line)
        if opened:
            fence, comments = opened.group(1), ""
        elif (heading_match := _HEADING.match(line)):
            heading, prose = heading_match.group(1), ""
        elif (prompt := _PROMPT.match(line)):
            yield _CodeLine(prompt.group(1).strip(), i + 1, i + 1, "command_line", f"{heading} {prose}")
        elif (alone := _ALONE_CODE.match(line)):
            yield _CodeLine(alone.group(1).strip(), i + 1, i + 1, "command_line", f"{heading} {prose}")
        elif re.match(r"^(?: {4}|\t)\S", line) and previous_blank and not re.match(r"^\s*(?:[-*+]|\d+[.)])\s", line):
            start = i
            while i < len(lines) and (re.match(r"^(?: {4}|\t)", lines[i]) or not lines[i].strip()):
                if lines[i].strip() and not _COMMENT.match(lines[i]):
                    yield _CodeLine(lines[i].strip(), i + 1, i + 1, "indented", f"{heading} {prose}")
                i += 1
            previous_blank = start < i and not lines[i - 1].strip()
            continue
        elif line.strip():
            prose = line  # the paragraph's latest line
        previous_blank = not line.strip()
        i += 1


def _script_exists(ctx: ProbeContext, runbook: str, match: "re.Match[str]") -> bool:
    """A rollback script the runbook runs exists (relative to the runbook or the root), or a
    ``make rollback`` target exists in a Makefile."""
    if match.group(1):
        script = match.group(1).lstrip("./") if match.group(1).startswith("./") else match.group(1)
        here = posixpath.normpath(posixpath.join(posixpath.dirname(runbook), script))
        return script in ctx.snapshot or here in ctx.snapshot
    target = match.group(2)
    for makefile in ("Makefile", "makefile", "GNUmakefile"):
        if makefile in ctx.snapshot and re.search(rf"^{re.escape(target)}\s*:", ctx.facts.text(makefile) or "", re.M):
            return True
    return False


def _runbook_rollbacks(ctx: ProbeContext) -> Iterator[Evidence]:
    for path in ctx.paths:
        if not _RUNBOOK.search(path):
            continue
        lines = ctx.facts.lines(path)
        if lines is None:
            yield ctx.unknown("rollback.runbook", ctx.facts.problems.get(path, "unreadable"), path=path)
            continue
        seen: set[str] = set()
        for code in _code_lines(lines):
            found = _rollback_tool(ctx, path, code)
            if found and found not in seen:
                seen.add(found)
                attrs = RunbookRollback(tool=found, command=code.text[:200], block=code.block)  # type: ignore[arg-type]
                yield ctx.evidence("rollback.runbook", attrs, path=path, lines=(code.start, code.end), subject=found)


# outside a fenced block, a line counts only when it *starts* like a command (an indented
# paragraph of a list item that says "helm rollback when ..." is prose)
_COMMAND_START = lazy(r"(?:sudo\s+)?(?:kubectl|helm|argocd|gto|aws|az|mlflow|curl|make|just|bash|sh|python3?)\b"
                            r"|\.{0,2}/|[\w./-]+\.(?:sh|py)\b|[\w.]+\(")


def _rollback_tool(ctx: ProbeContext, path: str, code: _CodeLine) -> Optional[str]:
    if code.block != "fenced" and not _COMMAND_START.match(code.text):
        return None
    for tool, pattern, needs_context in _ROLLBACK_COMMANDS:
        if pattern.search(code.text):
            if not needs_context or _CONTEXT.search(f"{path} {code.context} {code.text}"):
                return tool
    script = _SCRIPT.search(code.text)
    if script and _script_exists(ctx, path, script):
        return "script"
    return None


# --------------------------------------------------------------------------------------------
# the probe
# --------------------------------------------------------------------------------------------


def collect(ctx: ProbeContext) -> Iterable[Evidence]:
    yield from _gitops(ctx)
    yield from _runbook_rollbacks(ctx)


PROBE = Probe(
    id="gitops",
    title="GitOps delivery (Argo CD, Flux) and rollback commands in runbooks",
    patterns=(
        "**/*.yaml", "**/*.yml",
        "**/[Rr]unbook*/**/*.md", "**/[Rr]unbook*.md", "**/RUNBOOK*.md", "**/[Pp]laybook*/**/*.md",
        "**/[Pp]laybook*.md", "**/PLAYBOOK*.md", "**/*[Rr]oll[-_]back*.md", "**/*[Rr]ollback*.md",
        "**/ROLLBACK*.md", "**/[Rr]unbook*/**/*.markdown",
    ),
    kinds=(
        Kind("gitops.app", GitopsApp, "An Argo CD Application/ApplicationSet or Flux Kustomization/HelmRelease deploying from git"),
        Kind("gitops.remediation", HelmRemediation, "A Flux HelmRelease that rolls a failed upgrade back automatically"),
        Kind("gitops.image_automation", ImageAutomation, "Flux image automation writing new image tags back to git"),
        Kind("gitops.environments", GitopsEnvironments, "The environments GitOps objects deploy to (and which are automated)"),
        Kind("rollback.runbook", RunbookRollback, "A rollback command in a runbook's code block (helm rollback, rollout undo, alias re-point, ...)"),
    ),
    collect=collect,
)
