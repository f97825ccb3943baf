"""Three devices of one user and one of a grantee make random interleaved edits, online and
offline, push with lost answers and duplicate sends, and pull. At the end every device holds
exactly the server's entries, and every edit any device pushed is in its entry's history or
in a conflict copy.

The suite runs one fixed seed; `SYNC_SIM_SEEDS=20` runs twenty more (see README, "Device sync").
"""

from __future__ import annotations

import json
import os
import random
import uuid
from typing import Any

import pytest

from accounts.models import User
from entries.api.serializers import EntryOut
from entries.models import Entry, EntryVersion
from entries.services.entries import create_entry
from sharing.services import create_share
from sync.tests.clients import DeviceClient, publish

pytestmark = pytest.mark.django_db

STEPS = int(os.environ.get("SYNC_SIM_STEPS", "240"))
SEEDS = [1, *range(100, 100 + int(os.environ.get("SYNC_SIM_SEEDS", "0")))]


class SimDevice:
    def __init__(self, client: DeviceClient, rng: random.Random) -> None:
        self.client, self.rng = client, rng
        self.store: dict[str, dict[str, Any]] = {}
        self.outbox: list[dict[str, Any]] = []
        self.online = True

    def pull(self) -> None:
        pending = {op["entry"] for op in self.outbox if op.get("entry")}
        for change in self.client.pull_all(limit=self.rng.choice([5, 50, 200])):
            if change["entry_id"] in pending:
                continue  # a local edit waits to be pushed: it rebases on the push's answer
            if change["entry"] is None:
                self.store.pop(change["entry_id"], None)
            else:
                self.store[change["entry_id"]] = change["entry"]

    def queue(self, operation: dict[str, Any]) -> None:
        for waiting in self.outbox:
            if operation["op"] == "update" and waiting["op"] == "update" and waiting["entry"] == operation["entry"]:
                waiting["changes"].update(operation["changes"])  # one op per entry: later edits build on it
                waiting["tokens"] += operation["tokens"]
                return
        self.outbox.append(operation)


class Simulation:
    def __init__(self, seed: int, alice: User, bob: User, sync_device: Any) -> None:
        self.rng = random.Random(seed)
        self.alice, self.bob = alice, bob
        self.devices = [SimDevice(sync_device(alice, name), self.rng) for name in ("Laptop", "Phone", "Tablet")]
        self.devices.append(SimDevice(sync_device(bob, "Bob's phone"), self.rng))
        self.sent: dict[str, dict[str, Any]] = {}  # op id -> {tokens, outcome, entry}
        self.tokens = 0
        self.stats: dict[str, int] = {}

    def token(self) -> str:
        self.tokens += 1
        return f"tok{self.tokens:05d}x"

    def edit(self, device: SimDevice) -> None:
        choice = self.rng.random()
        if choice < 0.12 or not device.store:
            tok = self.token()
            device.queue(self._op("create", None, None, {"type": "note", "title": tok, "content": f"{tok}\n"}, [tok]))
            return
        entry_id = self.rng.choice(sorted(device.store))
        state = device.store[entry_id]
        # Trash and restore are the owner's: an editor's device (Bob's, on Alice's entries) edits.
        if choice < 0.18 and Entry.objects.filter(id=entry_id, owner=device.client.user).exists():
            kind = "restore" if state["status"] == "deleted" else "trash"
            device.store[entry_id] = {**state, "status": "active" if kind == "restore" else "deleted"}
            device.queue(self._op(kind, entry_id, None, {}, []))
            return
        tok = self.token()
        field = self.rng.choice(["title", "append", "replace", "tags"])
        lines = (state["content"] or "").splitlines(keepends=True)
        changes: dict[str, Any]
        if field == "title":
            changes = {"title": f"T {tok}"}
        elif field == "append" or not lines:
            changes = {"content": "".join([*lines, f"{tok}\n"])}
        elif field == "replace":
            lines[self.rng.randrange(len(lines))] = f"{tok}\n"
            changes = {"content": "".join(lines)}
        else:
            changes = {"tags": [*state["tags"], tok]}
        device.store[entry_id] = {**state, **changes}
        device.queue(self._op("update", entry_id, state["version"], changes, [tok]))

    def _op(self, kind: str, entry: str | None, base: int | None, changes: dict[str, Any], tokens: list[str]) -> Any:
        operation: dict[str, Any] = {"op_id": str(uuid.uuid4()), "op": kind, "changes": changes, "tokens": tokens}
        if entry:
            operation["entry"] = entry
        if base is not None:
            operation["base_version"] = base
        return operation

    def push(self, device: SimDevice) -> None:
        if not device.outbox:
            return
        batch = [{k: v for k, v in op.items() if k != "tokens"} for op in device.outbox]
        answer = device.client.push(*batch)["results"]
        if self.rng.random() < 0.25:  # the answer was lost: the device sends the same batch again
            again = device.client.push(*batch)["results"]
            assert [{k: v for k, v in r.items() if k != "replayed"} for r in again] == answer
            assert all(r["replayed"] for r in again)
        if self.sent and self.rng.random() < 0.1:  # a stray duplicate of something sent long ago
            old_id = self.rng.choice(sorted(self.sent))
            old = self.sent[old_id]
            if old["device"] is device:
                (dup,) = device.client.push(old["op"])["results"]
                assert {k: v for k, v in dup.items() if k != "replayed"} == old["outcome"]
        for operation, result in zip(device.outbox, answer, strict=True):
            self.stats[result["outcome"]] = self.stats.get(result["outcome"], 0) + 1
            assert result["outcome"] != "rejected", result
            entry = result.get("entry")
            # What the device sent: an edit it overwrote itself while offline never left it.
            sent_text = json.dumps(operation["changes"])
            self.sent[operation["op_id"]] = {
                "tokens": [tok for tok in operation["tokens"] if tok in sent_text],
                "outcome": result,
                "entry": entry["id"] if entry else operation.get("entry"),
                "device": device,
                "op": {k: v for k, v in operation.items() if k != "tokens"},
            }
            for state in (entry, result.get("copy")):
                if state:
                    device.store[state["id"]] = state
        device.outbox = []

    def sync(self, device: SimDevice) -> None:
        self.push(device)
        publish(self.alice, self.bob)
        device.pull()

    def run(self) -> None:
        shared = [
            create_entry(actor=self.alice, type="note", title=f"Shared {n}", content="a\nb\nc\n") for n in range(3)
        ]
        for entry in shared:
            create_share(actor=self.alice, entry_id=entry.id, grantee=self.bob.email, permission="write")
        for n in range(3):
            create_entry(actor=self.alice, type="note", title=f"Own {n}", content="x\ny\nz\n", tags=["start"])
        publish(self.alice, self.bob)
        for device in self.devices:
            device.pull()
        for _ in range(STEPS):
            device = self.rng.choice(self.devices)
            roll = self.rng.random()
            if roll < 0.1:
                device.online = not device.online
            if roll < 0.75 or not device.online:
                self.edit(device)
            if device.online and self.rng.random() < 0.6:
                self.sync(device)
        for device in self.devices:
            device.online = True
            self.push(device)
        publish(self.alice, self.bob)
        for device in self.devices:
            device.pull()

    def check(self) -> None:
        for device in self.devices:
            user = device.client.user
            server = {
                str(e.id): dict(EntryOut(e).data) for e in Entry.objects.visible_to(user).prefetch_related("tags")
            }
            server = {k: {**v, "id": str(v["id"])} for k, v in server.items()}
            mine = {k: {**v, "id": str(v["id"])} for k, v in device.store.items()}
            assert set(mine) == set(server), device.client.name
            for entry_id, state in server.items():
                assert _plain(mine[entry_id]) == _plain(state), (device.client.name, entry_id)
        for op_id, sent in self.sent.items():
            if not sent["tokens"]:
                continue
            texts = _texts(sent["entry"])
            for tok in sent["tokens"]:
                assert any(tok in text for text in texts), (op_id, tok, sent["outcome"]["outcome"])


def _plain(state: dict[str, Any]) -> dict[str, Any]:
    return {k: (str(v) if v is not None else None) for k, v in state.items()}


def _texts(entry_id: str) -> list[str]:
    """Everything an entry, its history and its conflict copies (with theirs) ever said."""
    ids = [
        entry_id,
        *[str(i) for i in Entry.objects.filter(conflict_of_id=uuid.UUID(entry_id)).values_list("id", flat=True)],
    ]
    texts = []
    for entry in Entry.objects.filter(id__in=ids).prefetch_related("tags"):
        texts.append(" ".join([entry.title, entry.content, *(t.name for t in entry.tags.all())]))
    for snapshot in EntryVersion.objects.filter(entry_id__in=ids).values_list("snapshot", flat=True):
        texts.append(" ".join([snapshot["title"], snapshot["content"], *snapshot["tags"]]))
    return texts


@pytest.mark.parametrize("seed", SEEDS)
def test_devices_converge_and_no_edit_is_lost(seed: int, alice: User, bob: User, sync_device: Any) -> None:
    simulation = Simulation(seed, alice, bob, sync_device)
    simulation.run()
    simulation.check()
    # The run must have exercised what it claims to: merges and conflicts, not only clean applies.
    assert simulation.stats.get("applied", 0) > 20, simulation.stats
    assert simulation.stats.get("merged", 0) > 3, simulation.stats
    assert simulation.stats.get("conflict", 0) > 3, simulation.stats
    assert sum(len(sent["tokens"]) for sent in simulation.sent.values()) > 100
