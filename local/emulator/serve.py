"""moto's server, made to keep two promises AWS keeps and moto does not.

1. One request at a time. AWS applies each conditional write and transaction atomically; moto's
   threaded server evaluates conditions and writes from concurrent threads. Serializing requests
   gives back that atomicity, so race tests exercise our conditions, not moto's threads.

2. Queries of one partition that read that partition. moto's Query collects and sorts every item
   of the table before it looks at the partition key, so a query costs time in proportion to the
   table, not to what it reads. Here a query without an index reads only its partition's items;
   everything after that (range conditions, filters, order, limits, paging) is moto's own code.
   Queries of a global secondary index still scan, as moto keeps no index structure.

3. Transactions that cost what AWS charges for them, and keep the table's stream. moto's
   TransactWriteItems deep-copies every table it touches, once per action, so that it can roll back
   by swapping the copy in: it costs time in proportion to the table (14 ms empty, 500 ms at 3,000
   items), and a cancelled transaction hands the table a copied stream shard that no open shard
   iterator follows, so a stream reader silently sees nothing after the first cancellation.
   Here a transaction checks every condition against the state before it, writes nothing if any
   fails, and otherwise applies its actions with an undo record of the items it touched (and of
   the stream records it added), so a failure part-way restores exactly those.

4. A record of who called what. AWS authorises every call against the caller's IAM policy; moto
   lets anyone do anything. Each function of the local stack signs with its own access key id (its
   name), and this server keeps, for every call signed by a key other than the tests' own, the
   key, the service, the action and the parameters IAM decides on (tables, indexes, transaction
   actions, role ARNs, the sender). `GET /_local/calls` returns them; the IAM conformance test
   compares them with each function's policy in the SAM template.

5. Trust policies that hold. moto's AssumeRole succeeds for any role ARN with any external id.
   Here AssumeRole is refused (AccessDenied, as AWS answers) unless the role exists in the account
   its ARN names and an Allow statement of its trust policy admits the caller (the service's
   account root, or the role named like the calling function's key) with every condition met
   (`sts:ExternalId` with StringEquals or StringLike; any other condition is refused, so a test
   notices rather than passes). The key `customer` is the customer's own administrator, who may
   assume any role that exists (tests look at the customer's account that way). `POST /_local/trust {"role_arn", "policy"}` is the customer's side:
   it creates the role if missing and adds the policy's statements to its trust policy.
"""

import argparse
import copy
import fnmatch
import inspect
import io
import json
import os
import re
import threading
import time

from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    ConditionalCheckFailed,
    MockValidationException,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend
from moto.iam.models import iam_backends
from moto.sts.exceptions import STSClientError
from moto.sts.models import STSBackend
from moto.dynamodb.models.table import Table
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple

ACTIONS = {"ConditionCheck", "Put", "Delete", "Update"}


def _key_of(table, op_type, op):
    if op_type != "Put":
        return op["Key"]
    attrs = op["Item"]
    if table.hash_key_attr not in attrs or (
        table.range_key_attr is not None and table.range_key_attr not in attrs
    ):
        raise MockValidationException("One or more parameter values were invalid: Missing the key in the item")
    key = {table.hash_key_attr: attrs[table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = attrs[table.range_key_attr]
    return key


def _restore(table, hash_value, range_value, old):
    """Puts an item back exactly as it was (or removes it), without a stream record."""
    if range_value is not None:
        bucket = table.items[hash_value]
        if old is None:
            bucket.pop(range_value, None)
            if not bucket:
                table.items.pop(hash_value, None)
        else:
            bucket[range_value] = old
    elif old is None:
        table.items.pop(hash_value, None)
    else:
        table.items[hash_value] = old


def transact_write_items(self, transact_items):
    if len(transact_items) > 100:
        raise TooManyTransactionsException()

    # Phase 1: shape, one action per item, and every condition against the state before any write.
    plans = []
    seen = set()
    reasons = []
    for entry in transact_items:
        if len(entry) > 1:
            raise TransactWriteSingleOpException
        op_type, op = next(iter(entry.items()))
        if op_type not in ACTIONS:
            raise MockValidationException(f"Unsupported transaction operation {op_type}")
        table = self.get_table(op["TableName"])
        key = _key_of(table, op_type, op)
        identity = (table.name, str(dict(sorted(key.items()))))
        if identity in seen:
            raise MultipleTransactionsException()
        seen.add(identity)
        hash_value, range_value = self.get_keys_value(table, key)
        current = table.get_item(hash_value, range_value)
        plans.append((op_type, op, table, key, hash_value, range_value))
        condition = op.get("ConditionExpression")
        if condition is not None:
            check = get_filter_expression(
                condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
            )
            if not check.expr(current):
                old = None
                if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                    old = current.to_json()["Attributes"]
                reasons.append(("ConditionalCheckFailed", "The conditional request failed", old))
                continue
        reasons.append((None, None, None))
    if any(code is not None for code, _, _ in reasons):
        raise TransactionCanceledException(reasons)

    # Phase 2: the writes, with an undo record of each item touched and of each stream's length.
    undo = []
    stream_lengths = {}
    index = 0
    try:
        for index, (op_type, op, table, key, hash_value, range_value) in enumerate(plans):
            if op_type == "ConditionCheck":
                continue
            if table.stream_shard is not None and table.name not in stream_lengths:
                stream_lengths[table.name] = (table, len(table.stream_shard.items))
            undo.append((table, hash_value, range_value, copy.deepcopy(table.get_item(hash_value, range_value))))
            names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
            if op_type == "Put":
                self.put_item(
                    table.name,
                    op["Item"],
                    condition_expression=op.get("ConditionExpression"),
                    expression_attribute_names=names,
                    expression_attribute_values=values,
                )
            elif op_type == "Delete":
                self.delete_item(
                    table.name,
                    key,
                    condition_expression=op.get("ConditionExpression"),
                    expression_attribute_names=names,
                    expression_attribute_values=values,
                )
            else:
                self.update_item(
                    table.name,
                    key,
                    update_expression=op["UpdateExpression"],
                    condition_expression=op.get("ConditionExpression"),
                    expression_attribute_names=names,
                    expression_attribute_values=values,
                )
    except Exception as error:
        for table, hash_value, range_value, old in reversed(undo):
            _restore(table, hash_value, range_value, old)
        for table, length in stream_lengths.values():
            del table.stream_shard.items[length:]
        if isinstance(error, (MockValidationException, ConditionalCheckFailed)):
            raise
        raise TransactionCanceledException(
            [(type(error).__name__, str(error), None) if i == index else (None, None, None) for i in range(len(plans))]
        )


DynamoDBBackend.transact_write_items = transact_write_items

_moto_query = Table.query
_query_signature = inspect.signature(_moto_query)


def query(self, hash_key, *args, **kwargs):
    """moto's Query, shown only the queried partition when no index is named. Requests are
    serialized, so the instance attribute lives for this call alone."""
    index_name = _query_signature.bind(self, hash_key, *args, **kwargs).arguments.get("index_name")
    if index_name or self.range_key_attr is None:
        return _moto_query(self, hash_key, *args, **kwargs)
    partition = list(self.items.get(hash_key, {}).values()) if hash_key is not None else []
    partition.sort(key=lambda item: item.range_key)
    self.all_items = lambda: partition
    try:
        return _moto_query(self, hash_key, *args, **kwargs)
    finally:
        del self.all_items


Table.query = query


# The tests' and the dev tooling's own key: their calls are set-up, not a function's.
TEST_KEY = "test"
CALLS = []
# When set, every recorded call is also appended to this file as a JSON line: `cargo xtask test`
# checks the calls of every test process against the IAM policies once, after they all ran.
_RECORD_TO = os.environ.get("ORGS_RECORD_CALLS")
_CREDENTIAL = re.compile(r"Credential=([^/]+)/[^/]+/[^/]+/([^/]+)/")


def _dynamodb_params(params):
    """What IAM decides a DynamoDB call on: its table and index, the tables of a batch, and each
    action of a transaction with its table."""
    kept = {k: params[k] for k in ("TableName", "IndexName") if k in params}
    if "RequestItems" in params:
        kept["RequestItems"] = sorted(params["RequestItems"])
    if "TransactItems" in params:
        kept["TransactItems"] = [
            {op: body.get("TableName") for op, body in entry.items()} for entry in params["TransactItems"]
        ]
    return kept


# The service's own account (moto's default) and the key of the request being served.
SERVICE_ACCOUNT = "123456789012"
# The tests acting as the customer's own administrator, who may assume any role of theirs (to look
# at their account as it is, behind the service's back).
CUSTOMER_KEY = "customer"
CALLER = {"key": None}


def _as_list(value):
    return value if isinstance(value, list) else [value]


def _admits(principal, key):
    """Whether a trust statement's principal is the caller: the service's account root (or its
    bare id), or the service role named like the calling function's key."""
    if principal == "*":
        return True
    wanted = {f"arn:aws:iam::{SERVICE_ACCOUNT}:root", SERVICE_ACCOUNT, f"arn:aws:iam::{SERVICE_ACCOUNT}:role/{key}", "*"}
    aws = principal.get("AWS") if isinstance(principal, dict) else None
    return any(name in wanted for name in _as_list(aws) if name)


def _conditions_hold(conditions, context):
    for operator, keys in (conditions or {}).items():
        for key, values in keys.items():
            actual = context.get(key.lower())
            values = _as_list(values)
            if operator == "StringEquals":
                ok = actual is not None and actual in values
            elif operator == "StringLike":
                ok = actual is not None and any(fnmatch.fnmatchcase(actual, v) for v in values)
            else:
                ok = False
            if not ok:
                return False
    return True


_moto_assume_role = STSBackend.assume_role


def assume_role(self, region_name, role_session_name, role_arn, policy, duration, external_id):
    parts = (role_arn or "").split(":")
    account = parts[4] if len(parts) > 5 else ""
    name = parts[5].split("/")[-1] if len(parts) > 5 else ""
    key = CALLER["key"]
    denied = STSClientError(
        "AccessDenied", f"User: {key} is not authorized to perform: sts:AssumeRole on resource: {role_arn}"
    )
    try:
        role = iam_backends[account]["aws"].get_role(name)
    except Exception:
        raise denied
    if key == CUSTOMER_KEY:
        return _moto_assume_role(self, region_name, role_session_name, role_arn, policy, duration, external_id)
    document = json.loads(role.assume_role_policy_document or "{}")
    context = {"sts:externalid": external_id} if external_id else {}
    for statement in _as_list(document.get("Statement", [])):
        actions = _as_list(statement.get("Action", []))
        if (
            statement.get("Effect") == "Allow"
            and any(a in ("sts:AssumeRole", "sts:*", "*") for a in actions)
            and _admits(statement.get("Principal"), key)
            and _conditions_hold(statement.get("Condition"), context)
        ):
            return _moto_assume_role(self, region_name, role_session_name, role_arn, policy, duration, external_id)
    raise denied


STSBackend.assume_role = assume_role


def _trust(request):
    """The customer's side: `role_arn` trusts `policy`'s statements too (created if missing)."""
    arn, policy = request["role_arn"], request["policy"]
    parts = arn.split(":")
    account, name = parts[4], parts[5].split("/")[-1]
    backend = iam_backends[account]["aws"]
    try:
        role = backend.get_role(name)
    except Exception:
        backend.create_role(name, json.dumps(policy), "/", None, "", [], None)
        return
    document = json.loads(role.assume_role_policy_document or "{}")
    statements = _as_list(document.get("Statement", []))
    for statement in _as_list(policy.get("Statement", [])):
        if statement not in statements:
            statements.append(statement)
    document["Statement"] = statements
    role.assume_role_policy_document = json.dumps(document)


def _record(environ, body):
    found = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
    CALLER["key"] = found.group(1) if found else None
    if not found or found.group(1) == TEST_KEY:
        return
    key, service = found.group(1), found.group(2)
    target = environ.get("HTTP_X_AMZ_TARGET")
    try:
        if target:
            action = target.split(".")[-1]
            params = json.loads(body or b"{}")
            params = _dynamodb_params(params) if service == "dynamodb" else {}
        else:
            from urllib.parse import parse_qs

            form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
            action = form.pop("Action", "")
            # The parameters IAM conditions read; message bodies and the like are left out.
            params = {k: form[k] for k in ("RoleArn", "ExternalId", "Source", "ConfigurationSetName") if k in form}
    except ValueError:
        action, params = "?", {}
    call = {"key": key, "service": service, "action": action, "params": params}
    CALLS.append(call)
    if _RECORD_TO:
        with open(_RECORD_TO, "a", encoding="utf-8") as record:
            record.write(json.dumps(call) + "\n")


def _local_api(environ, start_response):
    """The wrapper's own routes, under /_local/."""
    path = environ.get("PATH_INFO", "")
    if path == "/_local/calls" and environ.get("REQUEST_METHOD") == "GET":
        body = json.dumps({"calls": CALLS}).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]
    if path == "/_local/trust" and environ.get("REQUEST_METHOD") == "POST":
        length = int(environ.get("CONTENT_LENGTH") or 0)
        try:
            _trust(json.loads(environ["wsgi.input"].read(length)))
        except (KeyError, IndexError, ValueError, AttributeError) as error:
            message = f"expected {{role_arn, policy}}: {error}".encode()
            start_response("400 Bad Request", [("Content-Length", str(len(message)))])
            return [message]
        start_response("204 No Content", [("Content-Length", "0")])
        return [b""]
    start_response("404 Not Found", [("Content-Length", "0")])
    return [b""]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()

    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def serialized(environ, start_response):
        with lock:
            if environ.get("PATH_INFO", "").startswith("/_local/"):
                return _local_api(environ, start_response)
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            environ["wsgi.input"] = io.BytesIO(body)
            _record(environ, body)
            return list(app(environ, start_response))

    # Whoever started us (a test binary, the dev stack) may die without stopping us: follow it.
    parent = os.getppid()

    def exit_with_parent():
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=exit_with_parent, daemon=True).start()
    run_simple(args.host, args.port, serialized, threaded=True)


if __name__ == "__main__":
    main()
