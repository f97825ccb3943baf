"""The four DynamoDB tables, read back from DynamoDB Local with DescribeTable: seed 001's keys."""

from typing import Any

import pytest
from django.conf import settings

from personalpod import dynamo

PREFIX = settings.DYNAMODB_TABLE_PREFIX


def describe(name: str) -> dict[str, Any]:
    return dynamo.client().describe_table(TableName=PREFIX + name)["Table"]  # type: ignore[no-any-return]


def keys(schema: list[dict[str, str]]) -> dict[str, str]:
    return {key["KeyType"]: key["AttributeName"] for key in schema}


def indexes(table: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {index["IndexName"]: keys(index["KeySchema"]) for index in table.get("GlobalSecondaryIndexes", [])}


def ttl_attribute(name: str) -> str | None:
    described = dynamo.client().describe_time_to_live(TableName=PREFIX + name)["TimeToLiveDescription"]
    assert described["TimeToLiveStatus"] == "ENABLED"
    return described.get("AttributeName")  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("table", "gsis"),
    [
        ("search_index", {"GSI1": {"HASH": "gsi1pk", "RANGE": "gsi1sk"}}),
        (
            "sessions",
            {
                "UserSessionsIndex": {"HASH": "user_key", "RANGE": "created_at"},
                "DeviceSessionsIndex": {"HASH": "device_key", "RANGE": "created_at"},
            },
        ),
        ("cache", {}),
        (
            "sync_queue",
            {
                "StatusIndex": {"HASH": "status", "RANGE": "sk"},
                "DeviceSyncIndex": {"HASH": "device_key", "RANGE": "sk"},
            },
        ),
    ],
)
def test_table_has_the_seed_keys_gsis_and_ttl(table: str, gsis: dict[str, dict[str, str]]) -> None:
    described = describe(table)
    assert described["TableStatus"] == "ACTIVE"
    assert keys(described["KeySchema"]) == {"HASH": "pk", "RANGE": "sk"}
    assert indexes(described) == gsis
    assert described["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert ttl_attribute(table) == "expires_at"


def test_every_table_is_registered_under_this_runs_prefix() -> None:
    names = sorted(model.Meta.table_name for model in dynamo.registered_tables())
    assert names == sorted(PREFIX + name for name in ("search_index", "sessions", "cache", "sync_queue"))


def test_creating_tables_again_changes_nothing() -> None:
    outcomes = dict(dynamo.create_tables())
    assert set(outcomes.values()) == {"exists"}


def test_seed_key_formats_round_trip_through_the_tables() -> None:
    from datetime import UTC, datetime, timedelta

    from accounts.dynamo import SessionItem

    now = datetime.now(tz=UTC)
    item = SessionItem(
        "SESSION#abc", "USER#u1", user_key="USER#u1", created_at=now, expires_at=now + timedelta(hours=1)
    )
    item.save()
    stored = dynamo.client().get_item(
        TableName=PREFIX + "sessions", Key={"pk": {"S": "SESSION#abc"}, "sk": {"S": "USER#u1"}}
    )["Item"]
    assert stored["pk"] == {"S": "SESSION#abc"}
    assert "N" in stored["expires_at"]
    assert [s.pk for s in SessionItem.user_sessions.query("USER#u1")] == ["SESSION#abc"]
    item.delete()
