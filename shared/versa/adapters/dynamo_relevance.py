"""Relevance counts and allocation snapshots in DynamoDB (the optimizer's and the consumer's table).

One table, partition key `pk` and sort key `sk` (strings), two kinds of item:

- `count#{scope}` / `{segment}#{arm}#{group}`: `impressions` and `clicks` numbers, raised with `ADD`
  (atomic: any number of consumers may count at once), plus `segment`, `arm` and `group` as written;
- `alloc#{scope}` / `epoch#{epoch:010d}`: the snapshot's JSON in `body`, written with
  `attribute_not_exists(pk)` so an epoch is written once (two optimizer runs cannot both publish epoch
  n); the latest is the last `sk` of the partition (one Query, newest first, limit 1). Old epochs stay,
  because an email send pins the epoch it was sent under.

Any failure raises `StoreUnavailable`; the render path then shows the rule's own set (no arm) and the
optimizer's schedule retries.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from versa.adapters.lazy_client import LazyClient
from versa.ports import StoreUnavailable
from versa.relevance.counters import Counters
from versa.relevance.snapshot import AllocationSnapshot, SnapshotError
from versa.relevance.store import RelevanceStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

CONDITION_FAILED = "ConditionalCheckFailedException"


class DynamoRelevanceStore(RelevanceStore):
    """The store in the DynamoDB table `table_name` (see the module doc); the client is `client`, else
    made on first use by `client_factory`."""

    def __init__(
        self,
        table_name: str,
        *,
        client: DynamoDBClient | None = None,
        client_factory: Callable[[], DynamoDBClient] | None = None,
    ) -> None:
        self.table_name = table_name
        self._client: LazyClient[DynamoDBClient] = LazyClient("dynamodb", client=client, factory=client_factory)

    @property
    def client(self) -> DynamoDBClient:
        return self._client.get()

    def add(self, scope: str, counts: Counters) -> None:
        for (segment, arm, group), impressions, clicks in counts.items():
            request: dict[str, Any] = {
                "TableName": self.table_name,
                "Key": {"pk": {"S": f"count#{scope}"}, "sk": {"S": f"{segment}#{arm}#{group}"}},
                "UpdateExpression": "ADD impressions :i, clicks :c SET #s = :s, arm = :a, #g = :g",
                "ExpressionAttributeNames": {"#s": "segment", "#g": "group"},
                "ExpressionAttributeValues": {
                    ":i": {"N": str(impressions)}, ":c": {"N": str(clicks)},
                    ":s": {"S": segment}, ":a": {"S": arm}, ":g": {"S": group},
                },
            }
            self._update(request)

    def _update(self, request: dict[str, Any]) -> None:
        self._call("UpdateItem", lambda: self.client.update_item(**request))

    def counters(self, scope: str) -> Counters:
        rows: list[dict[str, object]] = []
        start: dict[str, Any] | None = None
        while True:
            request: dict[str, Any] = {
                "TableName": self.table_name, "KeyConditionExpression": "pk = :pk",
                "ExpressionAttributeValues": {":pk": {"S": f"count#{scope}"}}, "ConsistentRead": True,
            }
            if start:
                request["ExclusiveStartKey"] = start
            page = self._query(request)
            for item in page.get("Items", []):
                rows.append({
                    "segment": item["segment"]["S"], "arm": item["arm"]["S"], "group": item["group"]["S"],
                    "impressions": int(item.get("impressions", {}).get("N", "0")),
                    "clicks": int(item.get("clicks", {}).get("N", "0")),
                })
            start = page.get("LastEvaluatedKey")
            if not start:
                return Counters.from_data(rows)

    def _query(self, request: dict[str, Any]) -> Any:
        return self._call("Query", lambda: self.client.query(**request))

    def _put_new(self, scope: str, snapshot: AllocationSnapshot) -> bool:
        try:
            self._call("PutItem", lambda: self.client.put_item(
                TableName=self.table_name,
                Item={
                    "pk": {"S": f"alloc#{scope}"}, "sk": {"S": f"epoch#{snapshot.epoch:010d}"},
                    "body": {"S": snapshot.to_json()}, "valid_until": {"S": snapshot.valid_until.isoformat()},
                },
                ConditionExpression="attribute_not_exists(pk)",
            ))
        except _Exists:
            return False
        return True

    def snapshot(self, scope: str, epoch: int | None = None) -> AllocationSnapshot | None:
        key = {"pk": {"S": f"alloc#{scope}"}}
        if epoch is not None:
            found = self._call("GetItem", lambda: self.client.get_item(
                TableName=self.table_name, Key={**key, "sk": {"S": f"epoch#{epoch:010d}"}}, ConsistentRead=True))
            item = found.get("Item")
        else:
            page = self._call("Query", lambda: self.client.query(
                TableName=self.table_name, KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": key["pk"]}, ScanIndexForward=False, Limit=1, ConsistentRead=True))
            items = page.get("Items", [])
            item = items[0] if items else None
        if not item:
            return None
        try:
            return AllocationSnapshot.from_json(item["body"]["S"])
        except (SnapshotError, KeyError, ValueError) as exc:
            raise StoreUnavailable(f"relevance snapshot of {scope} in {self.table_name} is unreadable: {exc}") from exc

    def _call(self, what: str, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == CONDITION_FAILED:
                raise _Exists from exc
            raise StoreUnavailable(f"DynamoDB {what} on {self.table_name} (relevance) failed: {code}") from exc
        except BotoCoreError as exc:
            raise StoreUnavailable(f"DynamoDB {what} on {self.table_name} (relevance) failed: {exc}") from exc


class _Exists(Exception):
    """The conditional write found the item already there."""


def create_relevance_table(client: DynamoDBClient, name: str) -> None:
    """Create the relevance table (on-demand, `pk` + `sk` string keys) and wait until it is active.
    For tests and tools."""
    client.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
    )
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})


__all__ = ["DynamoRelevanceStore", "create_relevance_table"]
