"""/metrics shows the mirror's numbers; the admin shows failed deliveries and retries them."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from accounts.tests.factories import UserFactory
from entries.overview import statistics
from personalpod import cache
from sync import delivery
from sync.publisher import publish_changes
from sync.queue import Status
from sync.tests.helpers import queue_items

pytestmark = pytest.mark.django_db


def sample(body: str, series: str) -> float:
    match = re.search(rf"^{re.escape(series)} (\S+)$", body, re.MULTILINE)
    assert match, f"{series} not in /metrics"
    return float(match.group(1))


def test_metrics_show_the_mirror(
    alice: User, add_device: Any, write_notes: Any, client: Client, monkeypatch: Any, settings: Any
) -> None:
    settings.SYNC_MAX_DELIVERY_ATTEMPTS = 1
    add_device(alice)
    write_notes(alice, 3)
    publish_changes(user_id=alice.id)
    write_notes(alice, 2)  # the backlog
    delivery.record_delivery_failure(queue_items(alice)[0], "gone")
    monkeypatch.setattr(cache, "_inside_uncommitted_write", lambda: False)  # the test's own transaction
    statistics(alice)  # a miss
    statistics(alice)  # a hit
    client.get("/api/v1/")

    body = client.get("/metrics").content.decode()

    assert sample(body, 'personalpod_cache_total{cache_type="statistics",outcome="hit"}') == 1
    assert sample(body, 'personalpod_cache_total{cache_type="statistics",outcome="miss"}') == 1
    assert sample(body, "personalpod_sync_published_changes_total") == 3
    assert sample(body, "personalpod_sync_backlog_changes") >= 2
    assert sample(body, "personalpod_sync_oldest_unpublished_age_seconds") >= 0
    assert sample(body, "personalpod_sync_failed_deliveries_total") == 1
    assert sample(body, "personalpod_sync_failed_items") >= 1
    assert sample(body, 'personalpod_sync_publish_latency_seconds_bucket{le="+Inf"}') == 3
    assert sample(body, "personalpod_sync_publish_latency_seconds_count") == 3
    assert sample(body, f'personalpod_celery_queue_length{{queue="{settings.CELERY_TASK_DEFAULT_QUEUE}"}}') >= 0
    assert sample(body, 'personalpod_db_pool_connections{state="in_use"}') >= 0
    assert sample(body, "personalpod_db_pool_max") == settings.DATABASES["default"]["OPTIONS"]["pool"]["max_size"]
    assert sample(body, 'personalpod_request_duration_seconds_count{method="GET",route="api/v1/"}') == 1
    assert "# TYPE personalpod_request_duration_seconds histogram" in body


def test_histogram_buckets_are_cumulative(client: Client) -> None:
    from personalpod import metrics

    metrics.observe("personalpod_sync_publish_latency_seconds", [0.02, 0.2, 2.0, 2000.0])
    body = client.get("/metrics").content.decode()
    name = "personalpod_sync_publish_latency_seconds"
    assert sample(body, f'{name}_bucket{{le="0.01"}}') == 0
    assert sample(body, f'{name}_bucket{{le="0.025"}}') == 1
    assert sample(body, f'{name}_bucket{{le="0.25"}}') == 2
    assert sample(body, f'{name}_bucket{{le="300"}}') == 3
    assert sample(body, f'{name}_bucket{{le="+Inf"}}') == 4
    assert sample(body, f"{name}_sum") == pytest.approx(2002.22)


@pytest.fixture
def staff(db: None) -> Client:
    admin = UserFactory(email="support@example.com", username="support", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    return client


def test_admin_lists_failed_deliveries_and_retries_them(
    alice: User, add_device: Any, write_notes: Any, staff: Client, settings: Any
) -> None:
    settings.SYNC_MAX_DELIVERY_ATTEMPTS = 1
    add_device(alice)
    write_notes(alice, 2)
    publish_changes(user_id=alice.id)
    failed = queue_items(alice)[1]
    delivery.record_delivery_failure(failed, "payload too large")

    page = staff.get("/admin/sync/faileddelivery/")
    assert page.status_code == 200
    assert "payload too large" in page.content.decode()
    assert f'value="{failed.pk}|{failed.sk}"' in page.content.decode()

    response = staff.post("/admin/sync/faileddelivery/", {"item": f"{failed.pk}|{failed.sk}"})
    assert response.status_code == 302
    assert [item.status for item in queue_items(alice)] == [Status.PENDING, Status.PENDING]


def test_admin_devices_page_lists_devices(alice: User, add_device: Any, staff: Client) -> None:
    add_device(alice, "Kitchen tablet")
    page = staff.get("/admin/sync/device/")
    assert page.status_code == 200
    assert "Kitchen tablet" in page.content.decode()


def test_failed_deliveries_are_for_staff_only(alice: User, client: Client) -> None:
    client.force_login(alice)
    assert client.get("/admin/sync/faileddelivery/").status_code == 302  # to the sign-in page
