"""The runtime inside a function's execution environment (run by ``emulator/dataplane/functions.py``).

Started as ``<interpreter> -u -S -X pycache_prefix=<dir> function_bootstrap.py <config.json>`` in the function's
working directory (the emulator's stand-in for ``/var/task``), with the function's environment variables, its
stdout and stderr going to the function's log, and requests arriving on stdin. It plays the part of Lambda's
Python runtime interface client (aws/aws-lambda-python-runtime-interface-client, ``awslambdaric/bootstrap.py``):

- INIT: ``sys.path`` as the Python runtimes set it (the function's directory first, then the layers' paths, then
  the runtime's AWS SDK), then the handler's module is imported once (``_HANDLER``: ``module.function``). The
  outcome is one protocol message: ``{"type": "init"}`` or ``{"type": "init", "error": {...}}`` (then the process
  exits, as the runtime does after an init error).
- INVOKE: one JSON request per line on stdin (``requestId``, ``event`` as JSON text, ``deadlineMs``,
  ``invokedFunctionArn``); the handler runs with the event and a context object; one JSON answer per line on the
  protocol descriptor: ``{"type": "result", "payload": "<JSON text>"}`` (``payloadBase64`` when the handler
  returned bytes) or ``{"type": "error", "error": {"errorMessage", "errorType", "requestId", "stackTrace"}}``,
  the runtime's shapes and error types (``Runtime.ImportModuleError``, ``Runtime.HandlerNotFound``,
  ``Runtime.MarshalError``, ...), logged as the runtime logs them (``[ERROR] <type>: <message>`` then the
  traceback, lines joined by carriage returns).

The protocol uses its own descriptor (named in the configuration), never stdout, so that whatever the function
prints goes to its log only. Everything is flushed to the log before an answer is written, so the log of an
invocation is complete when its answer arrives. This file must run on every Python version of the Lambda
runtimes and imports nothing from the emulator.
"""

from __future__ import annotations

import base64
import decimal
import importlib
import json
import logging
import os
import sys
import time
import traceback

ERROR_LOG_LINE_TERMINATE = "\r"  # awslambdaric: the lines of one error are one log event
ERROR_LOG_IDENT = "\u00a0"  # awslambdaric: NO-BREAK SPACE indents the traceback's lines in the log

MALFORMED_HANDLER_NAME = "Runtime.MalformedHandlerName"
BUILT_IN_MODULE_CONFLICT = "Runtime.BuiltInModuleConflict"
IMPORT_MODULE_ERROR = "Runtime.ImportModuleError"
USER_CODE_SYNTAX_ERROR = "Runtime.UserCodeSyntaxError"
HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"
UNMARSHAL_ERROR = "Runtime.UnmarshalError"
MARSHAL_ERROR = "Runtime.MarshalError"

_REQUEST_ID = ""


class FaultError(Exception):
    def __init__(self, error_type: str, message: str, trace: list[str] | None = None) -> None:
        super().__init__(message)
        self.error_type, self.message, self.trace = error_type, message, trace


def make_error(message: str, error_type: str, stack_trace: list[str] | None, request_id: str | None = None) -> dict:
    return {
        "errorMessage": message or "",
        "errorType": error_type or "",
        "requestId": request_id if request_id is not None else "",
        "stackTrace": stack_trace or [],
    }


def _user_frames(tb) -> list[str]:
    """The traceback without this file's own frames, formatted as ``traceback.format_list`` does."""
    frames = traceback.extract_tb(tb)
    while frames and frames[0].filename == __file__:
        frames = frames[1:]
    return traceback.format_list(frames)


def log_error(error: dict) -> None:
    """As awslambdaric's text log sink writes an error: one event whose lines are separated by ``\\r``."""
    description = "[ERROR]"
    if error.get("errorType"):
        description += " " + error["errorType"]
    if error.get("errorMessage"):
        description += (":" if error.get("errorType") else "") + " " + error["errorMessage"]
    lines = [description]
    if error.get("stackTrace") is not None:
        lines.append("Traceback (most recent call last):")
        for element in error["stackTrace"]:
            for line in element.splitlines() or [""]:
                stripped = line.lstrip(" ")
                lines.append(ERROR_LOG_IDENT * (len(line) - len(stripped)) + stripped)
    sys.stdout.write(ERROR_LOG_LINE_TERMINATE.join(lines) + "\n")


def get_handler(handler: str):
    """awslambdaric ``_get_handler``: ``module.function``, the module imported from the search path."""
    try:
        module_name, function_name = handler.rsplit(".", 1)
    except ValueError as error:
        raise FaultError(MALFORMED_HANDLER_NAME, f"Bad handler '{handler}': {error}") from None
    try:
        if module_name.split(".")[0] in sys.builtin_module_names:
            raise FaultError(BUILT_IN_MODULE_CONFLICT, f"Cannot use built-in module {module_name} as a handler module")
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as error:
        raise FaultError(IMPORT_MODULE_ERROR, f"Unable to import module '{module_name}': {error}") from None
    except SyntaxError as error:
        trace = [f'  File "{error.filename}" Line {error.lineno}\n    {error.text}']
        raise FaultError(USER_CODE_SYNTAX_ERROR, f"Syntax error in module '{module_name}': {error}", trace) from None
    try:
        return getattr(module, function_name)
    except AttributeError:
        raise FaultError(HANDLER_NOT_FOUND, f"Handler '{function_name}' missing on module '{module_name}'") from None


class CognitoIdentity:
    __slots__ = ("cognito_identity_id", "cognito_identity_pool_id")

    def __init__(self) -> None:
        self.cognito_identity_id = None
        self.cognito_identity_pool_id = None


class LambdaContext:
    """The context object of the Python runtime (awslambdaric ``lambda_context.LambdaContext``)."""

    def __init__(self, request_id: str, deadline_ms: int, invoked_function_arn: str) -> None:
        self.aws_request_id = request_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = invoked_function_arn
        self.client_context = None
        self.identity = CognitoIdentity()
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        remaining = self._deadline_ms - int(time.time() * 1000)
        return remaining if remaining > 0 else 0

    def log(self, message) -> None:
        sys.stdout.write(str(message))

    def __repr__(self) -> str:
        return (
            f"LambdaContext([aws_request_id={self.aws_request_id},log_group_name={self.log_group_name},"
            f"log_stream_name={self.log_stream_name},function_name={self.function_name},"
            f"memory_limit_in_mb={self.memory_limit_in_mb},function_version={self.function_version},"
            f"invoked_function_arn={self.invoked_function_arn},client_context=None,identity={self.identity}])"
        )


class _RequestIdFilter(logging.Filter):
    def filter(self, record) -> bool:
        record.aws_request_id = _REQUEST_ID
        return True


class _LogHandler(logging.Handler):
    def emit(self, record) -> None:
        sys.stdout.write(self.format(record))


def setup_logging() -> None:
    """awslambdaric ``_setup_logging`` (text format): the root logger writes
    ``[LEVEL]<tab>timestamp<tab>request id<tab>message`` to the log; its level stays Python's default (WARNING)
    unless ``AWS_LAMBDA_LOG_LEVEL`` names one."""
    logging.Formatter.converter = time.gmtime
    handler = _LogHandler()
    handler.setFormatter(
        logging.Formatter(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n", "%Y-%m-%dT%H:%M:%S"
        )
    )
    handler.addFilter(_RequestIdFilter())
    root = logging.getLogger()
    level = (os.environ.get("AWS_LAMBDA_LOG_LEVEL") or "").upper()
    if level in logging._nameToLevel:
        root.setLevel(level)
    root.addHandler(handler)


def _json_default(value):
    # awslambdaric encodes Decimal as its exact digits (simplejson RawJSON); json without simplejson cannot emit
    # raw digits, so an integral Decimal becomes an int and any other a float.
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def marshal(result) -> dict:
    """The answer's payload: bytes as they are, anything else JSON (awslambdaric ``LambdaMarshaller``; the
    python3.12 runtime keeps non-ASCII characters, the others escape them)."""
    if isinstance(result, bytes):
        return {"payloadBase64": base64.b64encode(result).decode()}
    ensure_ascii = os.environ.get("AWS_EXECUTION_ENV") != "AWS_Lambda_python3.12"
    try:
        return {"payload": json.dumps(result, default=_json_default, ensure_ascii=ensure_ascii)}
    except Exception as error:
        raise FaultError(MARSHAL_ERROR, f"Unable to marshal response: {error}") from None


class Protocol:
    def __init__(self, fd: int) -> None:
        self._out = os.fdopen(fd, "wb", buffering=0)

    def send(self, message: dict) -> None:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        self._out.write(json.dumps(message).encode() + b"\n")


def handle(handler, request: dict) -> dict:
    global _REQUEST_ID
    request_id = _REQUEST_ID = request["requestId"]
    try:
        context = LambdaContext(request_id, int(request["deadlineMs"]), request["invokedFunctionArn"])
        try:
            event = json.loads(request["event"])
        except ValueError as error:
            raise FaultError(UNMARSHAL_ERROR, f"Unable to unmarshal input: {error}") from None
        return {"type": "result", **marshal(handler(event, context))}
    except FaultError as fault:
        error = make_error(fault.message, fault.error_type, fault.trace, request_id)
    except Exception as exception:
        error = make_error(str(exception), type(exception).__name__, _user_frames(exception.__traceback__), request_id)
    log_error(error)
    return {"type": "error", "error": error}


def main() -> None:
    with open(sys.argv[1]) as file:
        config = json.load(file)
    # The script's own directory is not the function's: the search path is the runtime's (see the docstring).
    del sys.path[0]
    sys.path[0:0] = config["path"]
    protocol = Protocol(int(config["protocol_fd"]))
    # Requests come on stdin; the function's code gets an empty stdin of its own.
    requests = os.fdopen(os.dup(0), "rb")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    setup_logging()
    try:
        handler = get_handler(os.environ.get("_HANDLER", ""))
    except FaultError as fault:
        error = make_error(fault.message, fault.error_type, fault.trace)
    except Exception as exception:
        error = make_error(str(exception), type(exception).__name__, _user_frames(exception.__traceback__))
    else:
        error = None
    if error is not None:
        log_error(error)
        protocol.send({"type": "init", "error": error})
        sys.exit(1)
    protocol.send({"type": "init"})
    for line in requests:
        protocol.send(handle(handler, json.loads(line)))


if __name__ == "__main__":
    main()
