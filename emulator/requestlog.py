"""Which AWS operation a raw HTTP request is, and a log of them per account.

The operation is read the way AWS reads it: ``X-Amz-Target`` for the JSON
protocol, ``Action`` for the query protocols, and for the REST protocols the
HTTP method and path matched against the ``requestUri`` templates of botocore's
service model.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from functools import cache, lru_cache
from urllib.parse import parse_qs, unquote

import botocore.session

# Operations that change nothing although their names do not start with a
# read verb.
_READ_ONLY_ACTIONS = {"AssumeRole", "GetCallerIdentity", "GetSessionToken", "Invoke"}
_READ_PREFIXES = ("Describe", "Get", "List", "Head", "Lookup", "Search", "Select", "Check")

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")


_answering = threading.local()  # what the handler answering a request on this thread found out about it


def mark_read_only() -> None:
    """Called while a request is answered: it changed nothing although its operation may change state (the RDS
    Data API's ExecuteStatement of a statement that wrote nothing). The request is then logged as not mutating."""
    _answering.read_only = True


def take_read_only() -> bool:
    """Whether the request answered last on this thread was marked read-only; clears the mark."""
    read_only = getattr(_answering, "read_only", False)
    _answering.read_only = False
    return read_only


def is_mutating(action: str) -> bool:
    """True for an operation that may change state (Create*, Put*, Delete*...)."""
    if action in _READ_ONLY_ACTIONS:
        return False
    return not action.startswith(_READ_PREFIXES)


@lru_cache(maxsize=1)
def _session() -> botocore.session.Session:
    return botocore.session.get_session()


@cache
def _service_for_signing_name(signing_name: str) -> str:
    session = _session()
    if signing_name in session.get_available_services():
        return signing_name
    for name in session.get_available_services():
        metadata = session.get_service_data(name)["metadata"]
        if metadata.get("signingName") == signing_name or metadata.get("endpointPrefix") == signing_name:
            return name
    return signing_name


@cache
def _rest_routes(service: str) -> list[tuple[str, re.Pattern, int, str]]:
    model = _session().get_service_model(service)
    routes = []
    for name in model.operation_names:
        http = model.operation_model(name).http
        uri = http.get("requestUri", "/").split("?")[0]
        literal = len(re.sub(r"\{[^}]+\}", "", uri))
        pattern = re.sub(r"\\\{[^}]+\\\+\\\}", ".+", re.escape(uri))
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", pattern)
        routes.append((http.get("method", "POST"), re.compile(f"^{pattern}/?$"), literal, name))
    routes.sort(key=lambda r: -r[2])
    return routes


def parse_credential(authorization: str) -> tuple[str | None, str | None, str | None]:
    """Return (access key ID, region, signing name) of a SigV4 header."""
    match = _CREDENTIAL.search(authorization or "")
    if not match:
        return None, None, None
    return match.group(1), match.group(2), match.group(3)


def identify(environ: dict, body: bytes) -> tuple[str, str]:
    """Return (service, action) for a WSGI request whose body was read."""
    _, _, signing = parse_credential(environ.get("HTTP_AUTHORIZATION", ""))
    service = _service_for_signing_name(signing) if signing else "unknown"
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return service, target.split(".")[-1]
    for source in (environ.get("QUERY_STRING", ""), body.decode("utf-8", "replace")):
        action = parse_qs(source).get("Action")
        if action:
            return service, action[0]
    if service == "unknown":
        return service, "unknown"
    method = environ.get("REQUEST_METHOD", "GET")
    path = unquote(environ.get("PATH_INFO", "/"))
    try:
        routes = _rest_routes(service)
    except Exception:  # a service botocore does not know
        return service, "unknown"
    for route_method, pattern, _, name in routes:
        if route_method == method and pattern.match(path):
            return service, name
    return service, "unknown"


class RequestLog:
    """Thread-safe list of the AWS requests the emulator answered."""

    def __init__(self) -> None:
        self._entries: list[dict] = []
        self._lock = threading.Lock()

    def add(self, **entry) -> None:
        entry.setdefault("time", time.time())
        entry["mutating"] = is_mutating(entry.get("action", "")) and not entry.pop("read_only", False)
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[dict]:
        with self._lock:
            return list(self._entries)

    def counts(self) -> list[dict]:
        """One row per (account, service, action, whether it was mutating) with its number of calls."""
        counter = Counter((e["account"], e["service"], e["action"], e["mutating"]) for e in self.entries())
        return [
            {"account": a, "service": s, "action": o, "count": n, "mutating": m}
            for (a, s, o, m), n in sorted(counter.items())
        ]

    def reset(self) -> None:
        with self._lock:
            self._entries.clear()
