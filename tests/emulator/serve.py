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
"""

import argparse
import copy
import inspect
import os
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()

    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def serialized(environ, start_response):
        with lock:
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
