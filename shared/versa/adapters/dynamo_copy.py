"""Generated copy in DynamoDB: the CopyStore the deployed render function uses.

One item per copy key (`pk`), carrying status, text, version, expires_at (epoch seconds, also the
table's TTL attribute), reason, meta (JSON) and, for listed items, brand and list_sk ("status#key"), the
keys of the sparse `by-brand` index that listings query. Reads are one BatchGetItem per 100 keys; the pending
lease and versioned results are conditional writes. Every call is bounded (short timeouts, one retry):
throttling, timeouts, connection failures and any other service error raise `StoreUnavailable`, which
the service turns into copy defaults. A failed condition is an answer (False), not an error.
"""

from __future__ import annotations

import functools
import json
import random
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from versa.adapters.lazy_client import LazyClient
from versa.ports import (
    CopyItem,
    CopyStatus,
    CopyStore,
    Malformed,
    StoreUnavailable,
    decode_cursor,
    decode_item,
    encode_cursor,
    expiry_seconds,
    now_seconds,
)

if TYPE_CHECKING:
    import boto3
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import (
        AttributeValueTypeDef,
        BatchGetItemOutputTypeDef,
        KeysAndAttributesTypeDef,
    )

DEFAULT_CONFIG = Config(
    connect_timeout=0.3,
    read_timeout=0.5,
    retries={"mode": "standard", "total_max_attempts": 2},
)
"""Bounded for the request path: worst case about two attempts of 0.3 s connect + 0.5 s read."""

THROTTLING = frozenset(
    {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"}
)
CONDITION_FAILED = "ConditionalCheckFailedException"
UNPROCESSED_BACKOFF = (0.02, 0.05, 0.1)
"""Pauses before re-asking for UnprocessedKeys (jittered); after the last, the read gives up."""

_ATTRIBUTES = ("pk", "status", "text", "version", "expires_at", "reason", "meta", "brand", "list_sk")
BRAND_INDEX = "by-brand"
"""The global secondary index listings query: partition `brand`, sort `list_sk` ("status#key"). Only
items with a brand carry both attributes (a sparse index: leases and lineage records are not in it)."""
_T = TypeVar("_T")


class _ConditionFailed(Exception):
    """A conditional write's condition did not hold (an answer, not a failure)."""




def _to_dynamo(item: CopyItem) -> dict[str, AttributeValueTypeDef]:
    out: dict[str, AttributeValueTypeDef] = {
        "pk": {"S": item.key},
        "status": {"S": item.status.value},
        "version": {"N": str(item.version)},
        "meta": {"S": json.dumps(dict(item.meta), sort_keys=True, separators=(",", ":"))},
    }
    if item.text is not None:
        out["text"] = {"S": item.text}
    if item.expires_at is not None:
        out["expires_at"] = {"N": str(expiry_seconds(item.expires_at))}
    if item.reason is not None:
        out["reason"] = {"S": item.reason}
    if item.brand is not None:
        out["brand"] = {"S": item.brand}
        out["list_sk"] = {"S": f"{item.status.value}#{item.key}"}
    return out


def _from_dynamo(raw: Mapping[str, Any]) -> CopyItem:
    expires = raw.get("expires_at")
    return CopyItem(
        key=raw["pk"]["S"],
        status=CopyStatus(raw["status"]["S"]),
        text=raw["text"]["S"] if "text" in raw else None,
        version=int(raw["version"]["N"]),
        expires_at=datetime.fromtimestamp(int(expires["N"]), UTC) if expires else None,
        reason=raw["reason"]["S"] if "reason" in raw else None,
        meta=json.loads(raw["meta"]["S"]) if "meta" in raw else {},
        brand=raw["brand"]["S"] if "brand" in raw else None,
    )


class DynamoCopyStore(CopyStore):
    """CopyStore on the DynamoDB table `table_name` (partition key `pk`, string).

    The client is `client` if given (tests pass one pointed at moto), else made on first use by
    `client_factory`, else on first use from `session` (default: a new boto3 session) with `config`
    (default: DEFAULT_CONFIG). Reads are eventually consistent. A lease over an expired item replaces
    it and increments its version. `sleep` takes the pauses between re-asks for unprocessed keys.
    """

    def __init__(
        self,
        table_name: str,
        *,
        client: DynamoDBClient | None = None,
        client_factory: Callable[[], DynamoDBClient] | None = None,
        session: boto3.session.Session | None = None,
        config: Config | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.table_name = table_name
        self._sleep = sleep
        self._client: LazyClient[DynamoDBClient] = LazyClient(
            "dynamodb", client=client, factory=client_factory, session=session,
            config=config or DEFAULT_CONFIG,
        )

    @property
    def client(self) -> DynamoDBClient:
        return self._client.get()

    def _call(self, what: str, call: Callable[[], _T]) -> _T:
        """Run one request; a failed condition raises _ConditionFailed, every other failure
        StoreUnavailable."""
        try:
            return call()
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == CONDITION_FAILED:
                raise _ConditionFailed from exc
            kind = "throttled" if code in THROTTLING else "failed"
            raise StoreUnavailable(f"DynamoDB {what} on {self.table_name} {kind}: {code}") from exc
        except BotoCoreError as exc:  # timeouts, refused connections, missing credentials...
            raise StoreUnavailable(f"DynamoDB {what} on {self.table_name} failed: {exc}") from exc

    # ------------------------------------------------------------------------------ primitives

    def _get_batch(self, keys: Sequence[str]) -> dict[str, CopyItem | Malformed]:
        found: dict[str, CopyItem | Malformed] = {}
        for start in range(0, len(keys), self.MAX_BATCH):
            found.update(self._get_chunk(keys[start : start + self.MAX_BATCH]))
        return found

    def _get_chunk(self, keys: Sequence[str]) -> dict[str, CopyItem | Malformed]:
        found: dict[str, CopyItem | Malformed] = {}
        pending: Sequence[Mapping[str, AttributeValueTypeDef]] = [
            {"pk": {"S": k}} for k in dict.fromkeys(keys)
        ]
        for attempt in range(len(UNPROCESSED_BACKOFF) + 1):
            if attempt:
                self._sleep(UNPROCESSED_BACKOFF[attempt - 1] * random.uniform(0.5, 1.0))
            response = self._batch_get(pending)
            for raw in response.get("Responses", {}).get(self.table_name, []):
                key = raw.get("pk", {}).get("S")
                if isinstance(key, str):  # a bad item is one missing key, never a failed read
                    found[key] = decode_item(key, functools.partial(_from_dynamo, raw))
            unprocessed = response.get("UnprocessedKeys", {}).get(self.table_name)
            pending = unprocessed["Keys"] if unprocessed else []
            if not pending:
                return found
        raise StoreUnavailable(
            f"DynamoDB BatchGetItem on {self.table_name}: {len(pending)} key(s) still unprocessed "
            f"after {len(UNPROCESSED_BACKOFF)} retries"
        )

    def _batch_get(self, keys: Sequence[Mapping[str, AttributeValueTypeDef]]) -> BatchGetItemOutputTypeDef:
        request: dict[str, KeysAndAttributesTypeDef] = {self.table_name: {"Keys": keys}}
        return self._call("BatchGetItem", lambda: self.client.batch_get_item(RequestItems=request))

    def _list(
        self, brand: str, status: CopyStatus | None, limit: int, cursor: str | None
    ) -> tuple[list[CopyItem | Malformed], str | None]:
        names: dict[str, str] = {"#brand": "brand"}
        values: dict[str, AttributeValueTypeDef] = {":brand": {"S": brand}}
        condition = "#brand = :brand"
        if status is not None:
            names["#sk"] = "list_sk"
            values[":prefix"] = {"S": f"{status.value}#"}
            condition += " AND begins_with(#sk, :prefix)"
        query: dict[str, Any] = {
            "TableName": self.table_name, "IndexName": BRAND_INDEX, "KeyConditionExpression": condition,
            "ExpressionAttributeNames": names, "ExpressionAttributeValues": values, "Limit": limit,
        }
        if cursor:
            after_status, after_key = decode_cursor(cursor)
            query["ExclusiveStartKey"] = {
                "pk": {"S": after_key}, "brand": {"S": brand}, "list_sk": {"S": f"{after_status}#{after_key}"},
            }
        response = self._call("Query", lambda: self.client.query(**query))
        found: list[CopyItem | Malformed] = []
        for raw in response.get("Items", []):
            key = raw.get("pk", {}).get("S")
            if isinstance(key, str):
                found.append(decode_item(key, functools.partial(_from_dynamo, raw)))
        last = response.get("LastEvaluatedKey")
        next_cursor = None
        if last and "list_sk" in last and "pk" in last:
            sort = str(last["list_sk"].get("S", ""))
            next_cursor = encode_cursor(sort.split("#", 1)[0], str(last["pk"].get("S", "")))
        return found, next_cursor

    def _put_if_absent_or_expired(self, item: CopyItem, *, now: datetime) -> bool:
        record = _to_dynamo(item)
        values: dict[str, AttributeValueTypeDef] = {
            ":now": {"N": str(now_seconds(now))},
            ":start": {"N": str(item.version - 1)},
            ":one": {"N": "1"},
        }
        sets = ["#version = if_not_exists(#version, :start) + :one"]
        removes = []
        for name in ("status", "text", "expires_at", "reason", "meta", "brand", "list_sk"):
            if name in record:
                sets.append(f"#{name} = :{name}")
                values[f":{name}"] = record[name]
            else:
                removes.append(f"#{name}")
        expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        try:
            self._call(
                "UpdateItem (lease)",
                lambda: self.client.update_item(
                    TableName=self.table_name,
                    Key={"pk": record["pk"]},
                    UpdateExpression=expression,
                    ConditionExpression="attribute_not_exists(#pk) OR #expires_at <= :now",
                    ExpressionAttributeNames={f"#{n}": n for n in _ATTRIBUTES},
                    ExpressionAttributeValues=values,
                ),
            )
        except _ConditionFailed:
            return False
        return True

    def _put(self, item: CopyItem, *, expected_version: int | None) -> bool:
        record = _to_dynamo(item)
        try:
            if expected_version is None:
                self._call("PutItem", lambda: self.client.put_item(TableName=self.table_name, Item=record))
            else:
                self._call(
                    "PutItem (versioned)",
                    lambda: self.client.put_item(
                        TableName=self.table_name,
                        Item=record,
                        ConditionExpression="#v = :expected",
                        ExpressionAttributeNames={"#v": "version"},
                        ExpressionAttributeValues={":expected": {"N": str(expected_version)}},
                    ),
                )
        except _ConditionFailed:
            return False
        return True


def create_table(client: DynamoDBClient, name: str) -> None:
    """Create the copy table as the stack declares it (on-demand, `pk` string key, the `by-brand`
    index, TTL on `expires_at`) and wait until it is active. For tests and tools; the stack owns the
    real one."""
    client.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "brand", "AttributeType": "S"},
            {"AttributeName": "list_sk", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": BRAND_INDEX,
                "KeySchema": [
                    {"AttributeName": "brand", "KeyType": "HASH"},
                    {"AttributeName": "list_sk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    client.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"}
    )


__all__ = ["BRAND_INDEX", "DEFAULT_CONFIG", "THROTTLING", "DynamoCopyStore", "create_table"]
