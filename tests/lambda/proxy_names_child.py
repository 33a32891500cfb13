"""Child process of test_proxy_endpoints.py: invokes the connection test for each case it reads, prints the answers.

Run inside a private mount namespace whose /etc/hosts maps the made-up RDS Proxy endpoint names to the local
servers. Reads one JSON object on stdin::

    {"lambda_src": "<dir of connection_test.py>", "password": "...", "hosts": {"<name>": "<address>"},
     "cases": {"<case>": {"event": ..., "environ": {...}, "unset": [...], "sslmode": null | "verify-full"}}}

and prints ``{"<case>": {"status": ..., "body": {...}, "connection": {...} | null}}``: the function's answer and,
for a connection it made, the ``sslmode`` libpq used and whether TLS was in use.

``connection_test`` is imported from ``lambda_src`` as it is. Each case runs with the process environment plus the
case's ``environ`` (less its ``unset``), with a tester whose token signer signs the real IAM token, then sends the
test password (as tests/lambda/support.py's ``PasswordSigner``: a local PostgreSQL cannot check IAM tokens).
A case with ``sslmode`` replaces the function's choice (``connection_test.sslmode_for``) for that case only: it
shows what connecting with that mode does (``verify-full`` is what the function did for every endpoint before).
"""

from __future__ import annotations

import json
import os
import socket
import sys


def _check_resolution(hosts: dict[str, str]) -> None:
    """Fail unless every name resolves to its address only (the bind-mounted hosts file is what answers)."""
    for name, address in hosts.items():
        try:
            found = {info[4][0] for info in socket.getaddrinfo(name, None, type=socket.SOCK_STREAM)}
        except OSError as error:
            found = {f"error: {error}"}
        if found != {address}:
            raise SystemExit(f"{name} resolves to {sorted(found)}, not {address}: /etc/hosts of the namespace unused")


def main() -> None:
    spec = json.load(sys.stdin)
    sys.path.insert(0, spec["lambda_src"])
    import connection_test

    _check_resolution(spec["hosts"])

    def sign(config, credentials) -> str:
        connection_test.sign_token(config, credentials)
        return spec["password"]

    chosen = getattr(connection_test, "sslmode_for", None)  # absent from a version that used verify-full everywhere
    answers = {}
    for name, case in spec["cases"].items():
        environ = {**os.environ, **case.get("environ", {})}
        for variable in case.get("unset", []):
            environ.pop(variable, None)
        forced = case.get("sslmode")
        if forced:
            connection_test.sslmode_for = lambda endpoint, mode=forced: mode
        tester = connection_test.ConnectionTester(sign_token=sign)
        try:
            response = tester.invoke(environ, case.get("event"))
            kept = [connection for _, connection in tester._connections.values()]
            connection = None
            if kept:
                connection = {
                    "sslmode": kept[0].get_dsn_parameters().get("sslmode"),
                    "ssl_in_use": kept[0].info.ssl_in_use,
                }
        finally:
            tester.close()
            if forced:
                connection_test.sslmode_for = chosen
        answers[name] = {
            "status": response["statusCode"],
            "body": json.loads(response["body"]),
            "connection": connection,
        }
    json.dump(answers, sys.stdout)


if __name__ == "__main__":
    main()
