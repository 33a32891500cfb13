# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The RDS Data API (``rds-data``) seen from a module: SQL parameters as
``SqlParameter`` dicts, records decoded from the ``Field`` union, the error
codes AWS documents as transient, and what to do about the others."""

import base64

# Errors the Data API documents as "try again": the DB instance is resuming (Aurora Serverless) or the
# writer is briefly unavailable (failover, reboot), plus throttling.
TRANSIENT_ERROR_CODES = [
    "DatabaseResumingException",
    "DatabaseUnavailableException",
    "ServiceUnavailableError",
    "ThrottlingException",
]

# What to do when an error code comes back, for the message of a failed task.
ERROR_HINTS = {
    "HttpEndpointNotEnabledException": "the cluster's HTTP endpoint (Data API) is off: enable it "
    "(aws rds enable-http-endpoint --resource-arn ..., or enable_http_endpoint of amazon.aws.rds_cluster)",
    "SecretsErrorException": "the Data API could not read the secret: check secret_arn, that the secret holds "
    "the cluster's username and password and that its KMS key may be used by the caller",
    "InvalidSecretException": "the secret is not a valid database secret: it needs the keys username and password",
    "AccessDeniedException": "the caller needs rds-data:ExecuteStatement, rds-data:BeginTransaction, "
    "rds-data:CommitTransaction and rds-data:RollbackTransaction on the cluster and "
    "secretsmanager:GetSecretValue on the secret",
    "ForbiddenException": "the caller needs rds-data permissions on the cluster and "
    "secretsmanager:GetSecretValue on the secret",
    "BadRequestException": "the Data API refused the request: check resource_arn (a cluster ARN), secret_arn "
    "and database",
    "DatabaseNotFoundException": "the database does not exist in the cluster: check database",
    "DatabaseErrorException": "the database refused the statement",
    "InvalidResourceStateException": "the cluster is not available (stopped, being modified or being created)",
    "DatabaseResumingException": "the database is still resuming after retries; run the task again",
    "DatabaseUnavailableException": "the cluster's writer is not available; run the task again once it is",
    "StatementTimeoutException": "the statement did not finish within the Data API's 45 seconds",
    "TransactionNotFoundException": "the transaction ended before it was committed (it times out after "
    "3 minutes without a statement)",
    "UnsupportedResultException": "the result holds a type the Data API cannot return",
}


def error_hint(code):
    """What to do about the error ``code`` of a Data API call, or an empty string."""
    return ERROR_HINTS.get(code, "")


def field(value):
    """A Python value as a Data API ``Field`` (the value of a ``SqlParameter``)."""
    if value is None:
        return {"isNull": True}
    if isinstance(value, bool):
        return {"booleanValue": value}
    if isinstance(value, int):
        return {"longValue": value}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, (bytes, bytearray)):
        return {"blobValue": bytes(value)}
    return {"stringValue": str(value)}


def parameters(**values):
    """``parameters`` of ExecuteStatement: one ``SqlParameter`` per keyword, referred to as ``:name`` in SQL."""
    return [{"name": name, "value": field(value)} for name, value in sorted(values.items())]


def _array_value(array):
    for key in ("booleanValues", "longValues", "doubleValues", "stringValues"):
        if key in array:
            return list(array[key])
    if "arrayValues" in array:
        return [_array_value(a) for a in array["arrayValues"]]
    return []


def value_of(field_):
    """The Python value of a ``Field`` of a record: None, bool, int, float, str, bytes or a list."""
    if not field_ or field_.get("isNull"):
        return None
    for key in ("booleanValue", "longValue", "doubleValue", "stringValue"):
        if key in field_:
            return field_[key]
    if "blobValue" in field_:
        blob = field_["blobValue"]
        return base64.b64decode(blob) if isinstance(blob, str) else bytes(blob)
    if "arrayValue" in field_:
        return _array_value(field_["arrayValue"])
    return None


def rows(response):
    """The ``records`` of an ExecuteStatement response as lists of Python values."""
    return [[value_of(f) for f in record] for record in response.get("records", [])]


def dict_rows(response):
    """The records as dicts by column label; needs ``includeResultMetadata=True`` in the request."""
    names = [c.get("label") or c.get("name") for c in response.get("columnMetadata", [])]
    return [dict(zip(names, row, strict=False)) for row in rows(response)]
