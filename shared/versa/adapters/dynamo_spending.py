"""The spending ledger every generator shares, in DynamoDB: atomic counters under conditions.

Two kinds of item in the generator's state table (partition key `pk`, TTL attribute `expires_at`):

- `spend#{brand}#{YYYY-MM-DD}` — the brand's UTC day: `tokens` spent and generations `started`;
- `rate#{YYYY-MM-DDTHH:MM}` — one UTC minute: generations `started` by every generator.

`admit` is two conditional `UpdateItem`s with `ADD`: the day's item only while `tokens` is under the
daily budget, then the minute's only while `started` is under the rate; a failed condition is the
answer ("budget" or "rate"), never a race: however many generators ask at once, at most `per_minute`
starts are counted in a minute. `spend` adds tokens atomically. The window is in the key, so a counter
never outlives its day or minute; TTL only cleans up (two days after a day, an hour after a minute) and
reads ignore an item past its `expires_at`. The rate is a fixed UTC-minute window (the in-process
ledger's is sliding). As in-process, a call already in flight may end past the budget.

Any other failure (throttling, timeouts, a missing table) raises `StoreUnavailable`: the generator
retries the message later rather than spend without a bound.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from versa.adapters.lazy_client import LazyClient
from versa.ports import SpendingLedger, StoreUnavailable, expiry_seconds

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

CONDITION_FAILED = "ConditionalCheckFailedException"
DAY_KEEP = timedelta(days=2)
"""How long after its UTC day a day's counter is kept (TTL) for operators to read."""
MINUTE_KEEP = timedelta(hours=1)


class _Refused(Exception):
    """The update's condition did not hold."""


class DynamoSpendingLedger(SpendingLedger):
    """Per-brand daily tokens and a per-minute rate shared through the DynamoDB table `table_name` (see
    the module doc). `clock` gives wall-clock epoch seconds (the minute window); the client is `client`,
    else made on first use by `client_factory`."""

    def __init__(
        self,
        table_name: str,
        *,
        daily_tokens: int,
        per_minute: int,
        client: DynamoDBClient | None = None,
        client_factory: Callable[[], DynamoDBClient] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.table_name = table_name
        self.daily_tokens = daily_tokens
        self.per_minute = per_minute
        self._clock = clock
        self._client: LazyClient[DynamoDBClient] = LazyClient("dynamodb", client=client, factory=client_factory)

    @property
    def client(self) -> DynamoDBClient:
        return self._client.get()

    @staticmethod
    def day_key(brand: str, day: date) -> str:
        return f"spend#{brand}#{day.isoformat()}"

    @staticmethod
    def minute_key(moment: datetime) -> str:
        return f"rate#{moment.strftime('%Y-%m-%dT%H:%M')}"

    def admit(self, brand: str, today: date) -> str | None:
        if self.daily_tokens <= 0:
            return "budget"
        if self.per_minute <= 0:
            return "rate"
        day_end = datetime(today.year, today.month, today.day, tzinfo=UTC) + timedelta(days=1)
        try:
            self._add(self.day_key(brand, today), "started", 1, expires=day_end + DAY_KEEP,
                      below=("tokens", self.daily_tokens))
        except _Refused:
            return "budget"
        now = datetime.fromtimestamp(self._clock(), UTC)
        minute = now.replace(second=0, microsecond=0)
        try:
            self._add(self.minute_key(now), "started", 1, expires=minute + timedelta(minutes=1) + MINUTE_KEEP,
                      below=("started", self.per_minute))
        except _Refused:
            return "rate"
        return None

    def spend(self, brand: str, today: date, tokens: int) -> None:
        if tokens <= 0:
            return
        day_end = datetime(today.year, today.month, today.day, tzinfo=UTC) + timedelta(days=1)
        self._add(self.day_key(brand, today), "tokens", tokens, expires=day_end + DAY_KEEP)

    def spent(self, brand: str, today: date | None = None) -> int:
        now = datetime.fromtimestamp(self._clock(), UTC)
        key = self.day_key(brand, today or now.date())
        found = self._call("GetItem", lambda: self.client.get_item(
            TableName=self.table_name, Key={"pk": {"S": key}}, ConsistentRead=True))
        item: Any = found.get("Item") or {}
        expires = item.get("expires_at", {}).get("N")
        if expires is not None and int(expires) <= now.timestamp():
            return 0  # TTL deletion is late: an expired counter counts as nothing
        return int(item.get("tokens", {}).get("N", "0"))

    # ------------------------------------------------------------------------------ primitives

    def _add(self, key: str, counter: str, amount: int, *, expires: datetime,
             below: tuple[str, int] | None = None) -> None:
        """ADD `amount` to `counter` of item `key` (created if absent) and set its expiry; with `below`
        = (attribute, limit), only while that attribute is absent or under the limit."""
        names = {"#c": counter, "#e": "expires_at"}
        values: dict[str, Any] = {":n": {"N": str(amount)}, ":e": {"N": str(expiry_seconds(expires))}}
        request: dict[str, Any] = {
            "TableName": self.table_name, "Key": {"pk": {"S": key}},
            "UpdateExpression": "ADD #c :n SET #e = :e",
        }
        if below is not None:
            names["#b"] = below[0]
            values[":limit"] = {"N": str(below[1])}
            request["ConditionExpression"] = "attribute_not_exists(#b) OR #b < :limit"
        request["ExpressionAttributeNames"] = names
        request["ExpressionAttributeValues"] = values
        self._call("UpdateItem", lambda: self.client.update_item(**request))

    def _call(self, what: str, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == CONDITION_FAILED:
                raise _Refused from exc
            raise StoreUnavailable(f"DynamoDB {what} on {self.table_name} (spending ledger) failed: {code}") from exc
        except BotoCoreError as exc:
            raise StoreUnavailable(f"DynamoDB {what} on {self.table_name} (spending ledger) failed: {exc}") from exc


def create_state_table(client: DynamoDBClient, name: str) -> None:
    """Create the generator's state table as the stack declares it (on-demand, `pk` string key, TTL on
    `expires_at`): the spending ledger's counters and the idempotency records. For tests and tools."""
    client.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
    )
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    client.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"}
    )


__all__ = ["DynamoSpendingLedger", "create_state_table"]
