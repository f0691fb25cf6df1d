"""Read-only access to the services a repository is wired to (MLflow, GitHub, ...).

One :class:`ServiceSession` per scan: it knows which services are linked (and with which
credentials, always from the environment, never reported), talks REST with ``requests``, caches
every response for the rest of the scan, keeps a request budget, and records each service's state
for the rule engine: ``linked``, ``not linked``, ``offline`` or ``unreachable: <reason>``.
A probe that declared ``services=("mlflow",)`` reaches it through ``ctx.services``.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from typing import Any, Optional

DEFAULT_TIMEOUT = 10.0
DEFAULT_BUDGET = 300  # requests per service per scan


class ServiceError(Exception):
    """A request that gave no usable answer; ``reason`` goes into ``unknown`` evidence."""

    def __init__(self, reason: str, status: Optional[int] = None, headers: Optional[dict[str, str]] = None):
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.headers = headers or {}


@dataclass
class ServiceLink:
    name: str  # "mlflow", "github"
    url: str  # tracking URI or API base URL
    params: dict[str, str] = field(default_factory=dict)  # e.g. {"repo": "owner/name"}
    token: Optional[str] = field(default=None, repr=False)  # from the environment; never reported
    source: str = ""  # where the link came from: "--mlflow-uri", ".mlscan.yaml", "MLFLOW_TRACKING_URI", ...


@dataclass(frozen=True)
class Response:
    data: Any
    endpoint: str  # "GET /api/2.0/mlflow/registered-models/search?max_results=1000"
    observed_at: str
    digest: str  # sha256 of the raw body
    headers: dict = field(default_factory=dict, hash=False, compare=False)  # e.g. Link, X-RateLimit-*


class ServiceSession:
    def __init__(self, links: dict[str, ServiceLink], *, offline: bool = False, observed_at: str = "",
                 timeout: float = DEFAULT_TIMEOUT, budget: int = DEFAULT_BUDGET, follow_declared: bool = False):
        self.links = links
        # A scanned repository is hostile: the hosts it names are contacted only when asked to.
        self.follow_declared = follow_declared
        self.offline = offline
        self.observed_at = observed_at or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        self.timeout = timeout
        self.budget = budget
        self.status: dict[str, str] = {}
        self._used: dict[str, int] = {}
        self._cache: dict[tuple, Response] = {}
        self._http = None

    # -- what the engine and probes ask -----------------------------------------------------

    def link(self, name: str) -> Optional[ServiceLink]:
        """The link, or None when the service is not linked or the scan is offline (state recorded)."""
        if self.offline:
            self.status[name] = "offline"
            return None
        link = self.links.get(name)
        if link is None:
            self.status.setdefault(name, "not linked")
            return None
        self.status.setdefault(name, "linked")
        return link

    def link_declared(self, link: ServiceLink) -> Optional[ServiceLink]:
        """Link a service the repository itself declares, if the user allowed it (and not offline)."""
        if self.offline or not self.follow_declared:
            return None
        if link.name in self.links:  # an explicit link always wins
            return self.links[link.name]
        self.links[link.name] = link
        self.status[link.name] = "linked"
        return link

    def mark_unreachable(self, name: str, reason: str) -> None:
        self.status[name] = f"unreachable: {reason}"

    def states(self, names: tuple[str, ...] = ("github", "mlflow")) -> dict[str, str]:
        out = {name: ("offline" if self.offline else "not linked") for name in names}
        out.update(self.status)
        return out

    # -- HTTP --------------------------------------------------------------------------------

    def request(self, name: str, method: str, path: str, *, params: Optional[dict[str, Any]] = None,
                body: Optional[dict[str, Any]] = None, headers: Optional[dict[str, str]] = None,
                base: Optional[str] = None) -> Response:
        """One cached, budgeted, timed-out JSON request; raises ServiceError on any failure."""
        link = self.links[name]
        key = (name, method, path, json.dumps(params, sort_keys=True), json.dumps(body, sort_keys=True))
        if key in self._cache:
            return self._cache[key]
        if self._used.get(name, 0) >= self.budget:
            raise ServiceError(f"request budget of {self.budget} used up")
        self._used[name] = self._used.get(name, 0) + 1
        import requests  # imported here so scans without services never pay for it

        if self._http is None:
            self._http = requests.Session()
        url = (base or link.url).rstrip("/") + path
        try:
            answer = self._http.request(method, url, params=params, json=body, headers=headers or {},
                                        timeout=self.timeout)
        except requests.Timeout:
            raise ServiceError(f"timed out after {self.timeout:g} s") from None
        except requests.ConnectionError as exc:
            raise ServiceError(f"connection failed: {_short(exc)}") from None
        except requests.RequestException as exc:
            raise ServiceError(f"request failed: {_short(exc)}") from None
        query = "&".join(f"{k}={v}" for k, v in sorted((params or {}).items()))
        endpoint = f"{method} {path}" + (f"?{query}" if query else "")
        if answer.status_code >= 400:
            raise ServiceError(f"{endpoint} answered HTTP {answer.status_code}", answer.status_code,
                               dict(answer.headers))
        try:
            data = answer.json()
        except ValueError:
            raise ServiceError(f"{endpoint} did not answer JSON") from None
        response = Response(data=data, endpoint=endpoint, observed_at=self.observed_at,
                            digest="sha256:" + hashlib.sha256(answer.content).hexdigest(),
                            headers=dict(answer.headers))
        self._cache[key] = response
        return response

    def close(self) -> None:
        if self._http is not None:
            self._http.close()


def _short(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]
