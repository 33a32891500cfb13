"""The emulator's HTTP server: moto's application behind a thin middleware.

The middleware
- maps the fixed access keys of ``accounts.yml`` to their accounts (moto finds
  keys issued by ``sts:AssumeRole`` itself),
- records every AWS request in the request log (account, service, action),
- answers a seeded fraction of requests with a throttling or server error in
  the wire format of the service's protocol,
- serves the control API under ``/_emulator/``.
"""

from __future__ import annotations

import atexit
import io
import json
import threading
import uuid
from functools import cache

from werkzeug.serving import make_server

from . import accounts as accounts_mod
from .requestlog import RequestLog, _session, identify, parse_credential, take_read_only
from .settings import SETTINGS

CONTROL_PREFIX = "/_emulator"

_THROTTLE_CODES = {
    "query": "Throttling",
    "ec2": "RequestLimitExceeded",
    "json": "ThrottlingException",
    "rest-json": "ThrottlingException",
    "rest-xml": "SlowDown",
}
_SERVER_CODES = {
    "query": "InternalFailure",
    "ec2": "InternalError",
    "json": "InternalFailure",
    "rest-json": "InternalFailure",
    "rest-xml": "InternalError",
}


@cache
def _protocol(service: str) -> str:
    try:
        return _session().get_service_model(service).metadata.get("protocol", "query")
    except Exception:
        return "query"


def fault_response(service: str, kind: str) -> tuple[str, list[tuple[str, str]], bytes]:
    """Return (status line, headers, body) of an injected fault."""
    protocol = _protocol(service)
    throttle = kind == "throttle"
    code = (_THROTTLE_CODES if throttle else _SERVER_CODES)[protocol]
    message = "Rate exceeded" if throttle else "An internal error has occurred"
    status = (
        ("503 Service Unavailable" if protocol == "rest-xml" else "400 Bad Request")
        if throttle
        else "500 Internal Server Error"
    )
    request_id = str(uuid.uuid4())
    if protocol in ("json", "rest-json"):
        headers = [
            ("Content-Type", "application/x-amz-json-1.1"),
            ("x-amzn-ErrorType", code),
            ("x-amzn-RequestId", request_id),
        ]
        body = json.dumps({"__type": code, "message": message}).encode()
    elif protocol == "ec2":
        headers = [("Content-Type", "text/xml")]
        body = (
            f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors>"
            f"<RequestID>{request_id}</RequestID></Response>"
        ).encode()
    elif protocol == "rest-xml":
        headers = [("Content-Type", "application/xml")]
        body = (
            f"<Error><Code>{code}</Code><Message>{message}</Message><RequestId>{request_id}</RequestId></Error>"
        ).encode()
    else:
        kind_text = "Sender" if throttle else "Receiver"
        headers = [("Content-Type", "text/xml")]
        body = (
            f"<ErrorResponse><Error><Type>{kind_text}</Type><Code>{code}</Code><Message>{message}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()
    return status, [*headers, ("Content-Length", str(len(body)))], body


class Emulator:
    """WSGI application: control API, then the middleware, then moto."""

    def __init__(self, accounts_file: str | None = None) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        from . import ext

        ext.install()
        self.accounts = accounts_mod.load(accounts_file)
        self.key_to_account = self.accounts.by_key()
        self.log = RequestLog()
        self.moto_app = DomainDispatcherApplication(create_backend_app)
        accounts_mod.seed(self.accounts)
        if SETTINGS.data_plane:
            # Aurora PostgreSQL DB instances become PostgreSQL servers (emulator/dataplane/postgres.py); they end
            # with the process.
            from .dataplane import postgres

            postgres.start()
            atexit.register(postgres.stop)

    # -- accounts -----------------------------------------------------------
    def account_for_key(self, access_key: str | None) -> str | None:
        if not access_key:
            return None
        if access_key in self.key_to_account:
            return self.key_to_account[access_key]
        from moto.iam.models import get_account_id_from

        return get_account_id_from(access_key)

    def reset(self) -> None:
        from moto.moto_api import _internal

        _internal.moto_api_backend.reset()
        accounts_mod.seed(self.accounts)
        self.log.reset()
        from .dataplane import functions, network, postgres
        from .ext import rds_data

        functions.stop()  # the functions' warm execution environments
        network.stop()  # their network namespaces and listeners
        rds_data.reset()  # the Data API's transactions and their connections
        postgres.prune()  # the servers of the instances that are gone

    # -- WSGI ---------------------------------------------------------------
    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith(CONTROL_PREFIX):
            return self._control(environ, start_response)
        if path.startswith("/moto-api"):
            return self.moto_app(environ, start_response)

        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        service, action = identify(environ, body)
        access_key, region, _ = parse_credential(environ.get("HTTP_AUTHORIZATION", ""))
        account = self.account_for_key(access_key)
        if access_key in self.key_to_account:
            environ["HTTP_X_MOTO_ACCOUNT_ID"] = account

        fault = SETTINGS.draw_fault(service)
        entry = {"account": account, "region": region, "service": service, "action": action}
        if fault:
            status, headers, payload = fault_response(service, fault)
            self.log.add(**entry, status=int(status.split()[0]), fault=fault)
            start_response(status, headers)
            return [payload]

        captured = {}

        def recording_start_response(status, headers, exc_info=None):
            captured["status"] = int(status.split()[0])
            return start_response(status, headers, exc_info)

        take_read_only()
        result = self.moto_app(environ, recording_start_response)
        self.log.add(**entry, status=captured.get("status", 0), fault=None, read_only=take_read_only())
        return result

    def _control(self, environ, start_response):
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ["PATH_INFO"][len(CONTROL_PREFIX) :].rstrip("/") or "/"
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        try:
            payload = json.loads(raw) if raw else {}
            status, body = self._route(method, path, payload)
        except ValueError as exc:
            status, body = "400 Bad Request", {"error": str(exc)}
        data = json.dumps(body, default=str).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]

    def _route(self, method: str, path: str, payload: dict) -> tuple[str, object]:
        ok = "200 OK"
        if path == "/health":
            return ok, {"status": "ok"}
        if path == "/config":
            if method == "POST":
                SETTINGS.update(**payload)
            return ok, SETTINGS.public()
        if path == "/accounts":
            return ok, [
                {"account_id": a.account_id, "name": a.name, "access_key_id": a.access_key_id}
                for a in self.accounts.all
            ]
        if path == "/requests":
            if method == "DELETE":
                self.log.reset()
                return ok, []
            return ok, self.log.entries()
        if path == "/ca":
            from .dataplane import ca

            authority = ca.authority()
            return ok, {"ca_file": str(authority.ca_file), "pem": authority.ca_file.read_text()}
        if path == "/dataplane/databases":
            from .dataplane import postgres

            return ok, postgres.databases()
        if path == "/requests/counts":
            return ok, self.log.counts()
        if path == "/reset" and method == "POST":
            self.reset()
            return ok, {"status": "reset"}
        if path == "/rds/minor-version-upgrade" and method == "POST":
            from .ext import rds_engine_versions

            version = rds_engine_versions.upgrade_minor_version(
                str(payload.get("account_id", "")),
                str(payload.get("region", "")),
                str(payload.get("cluster", "")),
                payload.get("engine_version"),
            )
            return ok, {"cluster": payload.get("cluster"), "engine_version": version}
        return "404 Not Found", {"error": f"no control endpoint {method} {path}"}


class EmulatorServer:
    """The emulator on a loopback port, in a background thread."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, accounts_file: str | None = None) -> None:
        from moto.moto_server.werkzeug_app import MotoRequestHandler

        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the emulator listens on loopback only")
        self.app = Emulator(accounts_file)
        self._server = make_server(host, port, self.app, threaded=True, request_handler=MotoRequestHandler)
        self._thread: threading.Thread | None = None
        # The functions' STS relays pass their requests to this server (emulator/dataplane/network.py).
        from .dataplane import network

        network.set_emulator_address(host, self.port)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def start(self) -> EmulatorServer:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        from .dataplane import functions, network

        functions.stop()  # the functions' warm execution environments
        network.stop()  # the functions' network namespaces and their listeners
        self._server.shutdown()
        if self._thread:
            self._thread.join()
        from .dataplane import postgres

        postgres.stop()  # the DB instances' PostgreSQL servers
