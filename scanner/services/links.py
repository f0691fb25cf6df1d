"""Which services a scan is linked to, and with which credentials (from the environment only).

Order of precedence: command-line options, then the environment, then ``.mlscan.yaml``.
GitHub is linked only when asked for (``--github-repo``, ``services.github`` in the config) or
when a token is in the environment, so a scan never reaches the network by surprise; the
repository name then comes from the ``origin`` remote.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Optional

from . import ServiceLink

if TYPE_CHECKING:
    from ..config import Config

GITHUB_API = "https://api.github.com"


def github_repo_of(remote: Optional[str]) -> Optional[str]:
    from ..snapshot import web_base

    base = web_base(remote) if remote else None
    if base is None or base[0] != "github":
        return None
    match = re.match(r"https://[^/]+/([^/]+/[^/]+)$", base[1])
    return match.group(1) if match else None


def resolve_links(
    config: "Config",
    remote: Optional[str],
    *,
    mlflow_uri: Optional[str] = None,
    github_repo: Optional[str] = None,
    github_api: Optional[str] = None,
    env: Optional[dict[str, str]] = None,
) -> dict[str, ServiceLink]:
    env = dict(os.environ if env is None else env)
    links: dict[str, ServiceLink] = {}

    configured_mlflow = config.services.mlflow.tracking_uri if config.services.mlflow else None
    uri, source = next(((u, s) for u, s in (
        (mlflow_uri, "--mlflow-uri"),
        (env.get("MLFLOW_TRACKING_URI"), "MLFLOW_TRACKING_URI"),
        (configured_mlflow, ".mlscan.yaml"),
    ) if u), (None, ""))
    if uri:
        token = env.get("MLFLOW_TRACKING_TOKEN") or (env.get("DATABRICKS_TOKEN") if uri.startswith("databricks") else None)
        params = {}
        if env.get("MLFLOW_TRACKING_USERNAME"):
            params["username"] = env["MLFLOW_TRACKING_USERNAME"]
        link = ServiceLink(name="mlflow", url=uri, params=params, token=token, source=source)
        if env.get("MLFLOW_TRACKING_PASSWORD"):
            link.params["password_env"] = "MLFLOW_TRACKING_PASSWORD"
        if uri.startswith("databricks") and env.get("DATABRICKS_HOST"):
            link.params["host"] = env["DATABRICKS_HOST"]
        links["mlflow"] = link

    configured = config.services.github
    token = env.get("GITHUB_TOKEN") or env.get("GH_TOKEN")
    wanted = github_repo or (configured.repo if configured else None)
    if wanted or configured or token:
        repo = wanted or github_repo_of(remote)
        if repo:
            api = github_api or (configured.api_url if configured and configured.api_url else None) or GITHUB_API
            links["github"] = ServiceLink(name="github", url=api, params={"repo": repo}, token=token,
                                          source="--github-repo" if github_repo else ("GITHUB_TOKEN" if token else ".mlscan.yaml"))
    return links
