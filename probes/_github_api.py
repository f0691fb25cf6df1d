"""A small read-only GitHub REST v3 client over the scan's service session.

Why not call ``ctx.services.request`` directly: GitHub needs three things on top of it.

- **Pagination** through the ``Link`` header (``rel="next"``), bounded by a page count, and only
  to the API's own origin (the token must never travel to another host).
- **Rate limits**: a 403/429 with ``Retry-After`` or ``X-RateLimit-Remaining: 0`` is a limit, not
  a permission problem. We wait only when the wait fits a small total budget (a scan must never
  hang); otherwise every later observation becomes ``unknown`` with reason ``rate-limited``.
- **Failure classes**: a connection failure marks the service unreachable and stops all further
  requests; a budget exhausted or a 401 stops too; a single 403/404 only concerns its endpoint.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Iterator, Optional
from urllib.parse import urlsplit

from scanner.services import Response, ServiceError

if TYPE_CHECKING:
    from scanner.services import ServiceLink, ServiceSession

SERVICE = "github"
RATE_LIMITED = "rate-limited"
MAX_TOTAL_SLEEP = 2.0  # seconds a whole scan may wait for rate limits
MAX_LINKS = 20  # rel entries read from one Link header
_CONNECTION_FAILURES = ("connection failed", "timed out", "request failed")
_HINTS = {  # what a refusal usually means on GitHub, for the reader of an ``unknown``
    401: "the token was rejected",
    403: "the token lacks the permission, or the plan lacks the feature",
    404: "not found, or not visible to this token",
}


def _sleep(seconds: float) -> None:
    """Indirection so tests can observe waits without waiting."""
    time.sleep(seconds)


class Unavailable(Exception):
    """An observation the probe could not make; becomes ``unknown`` evidence."""

    def __init__(self, reason: str, endpoint: str, status: Optional[int] = None):
        super().__init__(reason)
        self.reason = reason
        self.endpoint = endpoint
        self.status = status


def endpoint_of(path: str, params: Optional[dict[str, Any]] = None) -> str:
    """The endpoint text the service session cites (same format, so unknowns line up)."""
    query = "&".join(f"{k}={v}" for k, v in sorted((params or {}).items()))
    return f"GET {path}" + (f"?{query}" if query else "")


def header(headers: dict, name: str) -> Optional[str]:
    """A response header, case-insensitively (HTTP/2 lower-cases names, HTTP/1 may not)."""
    wanted = name.lower()
    for key, value in headers.items():
        if str(key).lower() == wanted:
            return str(value)
    return None


def next_link(headers: dict) -> Optional[str]:
    """The ``rel="next"`` URL of a ``Link`` header, if any."""
    value = header(headers, "Link")
    if not value:
        return None
    for part in value.split(",")[:MAX_LINKS]:
        target, _, rest = part.partition(";")
        target = target.strip()
        if target.startswith("<") and target.endswith(">") and 'rel="next"' in rest.replace(" ", ""):
            return target[1:-1]
    return None


class GitHub:
    """Requests for one repository, with the pagination and rate-limit policy above."""

    def __init__(self, services: "ServiceSession", link: "ServiceLink"):
        self.services = services
        self.repo = link.params.get("repo", "")
        self.base = f"/repos/{self.repo}"
        origin = urlsplit(link.url)
        self.origin = (origin.scheme, origin.netloc)
        self.headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
        if link.token:
            self.headers["Authorization"] = f"Bearer {link.token}"
        self.stopped: Optional[str] = None  # why no further request is made
        self.slept = 0.0
        self._reset_at: Optional[float] = None  # the limit is spent until then

    # -- single requests -------------------------------------------------------------------

    def get(self, path: str, params: Optional[dict[str, Any]] = None, *, base: Optional[str] = None) -> Response:
        """One GET; raises :class:`Unavailable` with the endpoint and status when it gives nothing."""
        endpoint = endpoint_of(path, params)
        self._wait_for_reset(endpoint)
        for attempt in range(2):
            try:
                response = self.services.request(SERVICE, "GET", path, params=params, headers=self.headers, base=base)
            except ServiceError as exc:
                wait = self._limit_wait(exc)
                if wait is None:
                    raise self._classify(exc, endpoint) from None
                if attempt == 0 and self._may_sleep(wait):
                    continue
                self.stopped = RATE_LIMITED
                raise Unavailable(RATE_LIMITED, endpoint, exc.status) from None
            self._note_remaining(response.headers)
            return response
        raise Unavailable(RATE_LIMITED, endpoint)  # pragma: no cover (the loop always returns or raises)

    def pages(self, path: str, params: Optional[dict[str, Any]] = None, *, max_pages: int) -> Iterator[Response]:
        """The first page and up to ``max_pages - 1`` more, following ``Link: rel="next"``.

        A next link to another origin is not followed: the request carries the token.
        """
        response = self.get(path, params)
        yield response
        for _ in range(max_pages - 1):
            target = next_link(response.headers)
            if not target:
                return
            parts = urlsplit(target)
            if (parts.scheme, parts.netloc) != self.origin:
                return
            rest = parts.path + (f"?{parts.query}" if parts.query else "")
            response = self.get(rest, base=f"{parts.scheme}://{parts.netloc}")
            yield response

    def items(self, path: str, params: Optional[dict[str, Any]] = None, *, key: Optional[str] = None,
              max_pages: int, limit: int) -> tuple[list[dict], Response]:
        """Up to ``limit`` list items over pages (``key`` names the list in wrapped answers such as
        ``{"total_count": n, "workflows": [...]}``); returns them and the first response, to cite."""
        found: list[dict] = []
        first: Optional[Response] = None
        for response in self.pages(path, params, max_pages=max_pages):
            first = first or response
            data = response.data.get(key) if key and isinstance(response.data, dict) else response.data
            if not isinstance(data, list):
                raise Unavailable(f"{response.endpoint} did not answer a list", response.endpoint)
            found += [item for item in data if isinstance(item, dict)]
            if len(found) >= limit:
                break
        assert first is not None
        return found[:limit], first

    def refuse(self, path: str, params: Optional[dict[str, Any]] = None) -> None:
        """Raise now when no request will be made (rate-limited, unreachable, ...)."""
        if self.stopped:
            raise Unavailable(self.stopped, endpoint_of(path, params))

    # -- policy ----------------------------------------------------------------------------

    def _classify(self, exc: ServiceError, endpoint: str) -> Unavailable:
        if exc.status is None:
            if exc.reason.startswith(_CONNECTION_FAILURES):
                self.services.mark_unreachable(SERVICE, exc.reason)
                self.stopped = exc.reason
            elif exc.reason.startswith("request budget"):
                self.stopped = exc.reason
            return Unavailable(exc.reason, endpoint)
        reason = f"{exc.reason} ({_HINTS[exc.status]})" if exc.status in _HINTS else exc.reason
        if exc.status == 401:  # every later request would be refused the same way
            self.stopped = reason
        return Unavailable(reason, endpoint, exc.status)

    def _limit_wait(self, exc: ServiceError) -> Optional[float]:
        """Seconds to wait when ``exc`` is a rate limit, else None (a 403 may be a permission)."""
        if exc.status not in (403, 429):
            return None
        retry_after = header(exc.headers, "Retry-After")
        if retry_after is not None:
            try:
                return max(float(retry_after), 0.0)
            except ValueError:
                return float("inf")
        if header(exc.headers, "X-RateLimit-Remaining") == "0":
            return self._until_reset(exc.headers)
        return 60.0 if exc.status == 429 else None  # a bare 429 asks for at least a minute

    def _until_reset(self, headers: dict) -> float:
        reset = header(headers, "X-RateLimit-Reset")
        try:
            return max(float(reset) - time.time(), 0.0) if reset is not None else float("inf")
        except ValueError:
            return float("inf")

    def _may_sleep(self, seconds: float) -> bool:
        if seconds > MAX_TOTAL_SLEEP - self.slept:
            return False
        _sleep(seconds)
        self.slept += seconds
        return True

    def _note_remaining(self, headers: dict) -> None:
        if header(headers, "X-RateLimit-Remaining") == "0":
            wait = self._until_reset(headers)
            self._reset_at = time.time() + wait if wait != float("inf") else float("inf")

    def _wait_for_reset(self, endpoint: str) -> None:
        if self.stopped:
            raise Unavailable(self.stopped, endpoint)
        if self._reset_at is None:
            return
        wait = self._reset_at - time.time()
        if wait > 0 and not self._may_sleep(wait):
            self.stopped = RATE_LIMITED
            raise Unavailable(RATE_LIMITED, endpoint)
        self._reset_at = None
