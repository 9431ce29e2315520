"""Items' keys and variables over HTTP (issue 28), the bodies people get wrong: every bad key
or variable is refused with 422 and one line naming what is wrong, and nothing is added or
changed; item events on `…/events` say which item, key and variant they are about."""

from __future__ import annotations

import json
from contextlib import aclosing
from typing import Any

import anyio
import pytest
from fastapi.testclient import TestClient

from batchtui.api.app import create_app
from batchtui.api.events import batch_events
from batchtui.core.item_vars import MAX_VARS
from batchtui.service import BatchService


@pytest.fixture
def http(service: BatchService):
    with TestClient(create_app(service), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def draft(service: BatchService) -> str:
    made = service.create("Draft")
    service.add_items(made.id, ["first"], [{"voice": "alto"}], ["intro"])
    return made.id


def _refused(answer: Any) -> str:
    """The one line of a 422."""
    assert answer.status_code == 422, answer.text
    message = answer.json()["error"]["message"]
    assert "\n" not in message and len(message) < 400, message
    return str(message)


def _items(service: BatchService, batch_id: str) -> list[tuple[str, str | None, Any]]:
    return [(i.content, i.key, i.vars) for i in service.get(batch_id).items]


BAD_KEYS = [
    ("../x", "is not an item key"),
    ("A", "is not an item key"),
    ("3", "is not an item key"),
    ("k" * 65, "is not an item key"),
    ("a b", "is not an item key"),
    (7, "key: Input should be a valid string"),
]
BAD_VARS: list[tuple[Any, str]] = [
    ({"voice": "alto\nbass"}, "variable voice holds a control character"),
    ({"voice": "\x1b[31mred"}, "variable voice holds a control character"),
    ({"voice": "tab\there"}, "variable voice holds a control character"),
    (["voice", "alto"], "vars: Input should be a valid dictionary"),
    # (an edit says 10001: the item's own var and these)
    ({f"v{n}": n for n in range(10_000)}, f"at most {MAX_VARS} variables, not 1000"),
    ({"two words": "x"}, "'two words' is not a variable name"),
    ({"1st": "x"}, "'1st' is not a variable name"),
    ({"voice": True}, "vars.voice: a variable's value is text or a number"),
    ({"voice": ["alto"]}, "vars.voice: a variable's value is text or a number"),
    ({"voice": {"a": 1}}, "vars.voice: a variable's value is text or a number"),
    ({"voice": "x" * 5000}, "variable voice is over 4,096 characters"),
]


@pytest.mark.parametrize(("key", "words"), BAD_KEYS)
def test_a_bad_key_is_refused_in_one_line_and_nothing_added_or_changed(
    http, service: BatchService, draft: str, key: Any, words: str
) -> None:
    before = _items(service, draft)
    body = {"items": [{"content": "ok", "key": "fine"}, {"content": "bad", "key": key}]}
    message = _refused(http.post(f"/v1/batch/{draft}/items", json=body))
    assert words in message
    assert "item 2" in message or "items.1" in message, message  # which item it is
    assert words in _refused(http.patch(f"/v1/batch/{draft}/items/intro", json={"key": key}))
    assert _items(service, draft) == before


@pytest.mark.parametrize(("values", "words"), BAD_VARS)
def test_bad_vars_are_refused_in_one_line_and_nothing_added_or_changed(
    http, service: BatchService, draft: str, values: Any, words: str
) -> None:
    before = _items(service, draft)
    body = {"items": [{"content": "ok"}, {"content": "bad", "vars": values}]}
    message = _refused(http.post(f"/v1/batch/{draft}/items", json=body))
    assert words in message
    assert "item 2" in message or "items.1" in message, message
    edit = {"vars": values, "content": "changed"}
    assert words in _refused(http.patch(f"/v1/batch/{draft}/items/1", json=edit))
    assert _items(service, draft) == before


def test_an_edit_must_change_something_and_names_only_its_fields(
    http, service: BatchService, draft: str
) -> None:
    before = _items(service, draft)
    for body in ({}, {"content": None}, {"vars": None}, {"voice": "bass"}):
        _refused(http.patch(f"/v1/batch/{draft}/items/1", json=body))
    _refused(http.patch(f"/v1/batch/{draft}/items/1", json={"content": "  "}))
    assert _items(service, draft) == before
    missing = http.patch(f"/v1/batch/{draft}/items/nokey", json={"key": "x"})
    assert missing.status_code == 404


def test_vars_are_set_merged_and_unset_and_values_keep_their_type(
    http, service: BatchService, draft: str
) -> None:
    items = f"/v1/batch/{draft}/items"
    changed = http.patch(f"{items}/intro", json={"vars": {"seed": 7, "gain": 0.5}})
    assert changed.json()["vars"] == {"voice": "alto", "seed": 7, "gain": 0.5}
    changed = http.patch(f"{items}/intro", json={"vars": {"voice": None, "never": None}})
    assert changed.json()["vars"] == {"seed": 7, "gain": 0.5}
    changed = http.patch(f"{items}/intro", json={"vars": {"seed": None, "gain": None}})
    assert changed.json()["vars"] is None  # no vars left: none, as an item added without any
    assert _items(service, draft) == [("first", "intro", None)]


def test_the_schema_publishes_the_key_and_variable_rules(http) -> None:
    parts = http.get("/openapi.json").json()["components"]["schemas"]
    for model in ("NewItem", "EditItem"):
        fields = parts[model]["properties"]
        [key] = [k for k in fields["key"]["anyOf"] if k.get("type") == "string"]
        assert key["pattern"] == "^([a-z0-9][a-z0-9_-]{0,63})?$" and key["maxLength"] == 64
        [values] = [v for v in fields["vars"]["anyOf"] if v.get("type") == "object"]
        assert values["maxProperties"] == MAX_VARS
        assert values["propertyNames"]["pattern"] == "^[A-Za-z_][A-Za-z0-9_]{0,63}$"
    assert set(parts["EditItem"]["properties"]) == {"content", "vars", "key"}
    # Answers: every item carries these (null when it has none), in a batch's items too.
    item = parts["ItemAnswer"]
    assert {"vars", "key", "variant", "label"} <= set(item["required"])
    assert parts["BatchAnswer"]["properties"]["items"]["items"]["$ref"].endswith("/ItemAnswer")


def _event(chunk: str) -> tuple[str, dict[str, Any]] | None:
    fields = dict(line.split(": ", 1) for line in chunk.strip().splitlines() if ": " in line)
    if "event" not in fields:
        return None
    return fields["event"], json.loads(fields["data"])


@pytest.mark.anyio
async def test_item_events_say_which_item_key_and_variant_and_follow_an_edit(
    service: BatchService, draft: str
) -> None:
    seen: list[dict[str, Any]] = []
    with anyio.fail_after(20):
        async with aclosing(batch_events(service, draft, None)) as stream:
            async for chunk in stream:
                parsed = _event(chunk)
                if parsed is None or parsed[0] != "item":
                    continue
                seen.append(parsed[1])
                if len(seen) == 1:  # the draft as it is; then an edit of its var and key
                    await anyio.to_thread.run_sync(
                        lambda: service.edit_item(draft, "intro", None, {"voice": "bass"}, key="ep")
                    )
                else:
                    break
    first, edited = seen
    assert {k: first[k] for k in ("label", "key", "variant", "vars", "position")} == {
        "label": "1", "key": "intro", "variant": None, "vars": {"voice": "alto"}, "position": 1,
    }  # fmt: skip
    assert (edited["key"], edited["vars"], edited["item_id"]) == (
        "ep", {"voice": "bass"}, first["item_id"],
    )  # fmt: skip


@pytest.mark.anyio
async def test_a_locked_batch_with_variants_streams_one_event_per_variant(
    service: BatchService, draft: str
) -> None:
    service.update_config(draft, variants=3)
    service.lock(draft)
    seen: list[dict[str, Any]] = []
    with anyio.fail_after(20):
        async with aclosing(batch_events(service, draft, None)) as stream:
            async for chunk in stream:
                parsed = _event(chunk)
                if parsed is not None and parsed[0] == "item":
                    seen.append(parsed[1])
                if parsed is not None and parsed[0] == "batch":
                    break  # the first snapshot is out
    assert [(e["label"], e["key"], e["variant"]) for e in seen] == [
        ("1.v1", "intro", 1), ("1.v2", "intro", 2), ("1.v3", "intro", 3),
    ]  # fmt: skip
    assert len({e["item_id"] for e in seen}) == 3
    assert all(e["vars"] == {"voice": "alto"} for e in seen)


@pytest.mark.anyio
async def test_unlock_folding_variants_back_streams_which_rows_are_gone(
    service: BatchService, draft: str
) -> None:
    service.update_config(draft, variants=3)
    service.lock(draft)
    events: list[tuple[str, dict[str, Any]]] = []
    with anyio.fail_after(20):
        async with aclosing(batch_events(service, draft, None)) as stream:
            async for chunk in stream:
                parsed = _event(chunk)
                if parsed is None:
                    continue
                events.append(parsed)
                if parsed[0] == "batch" and len(events) == 4:  # 3 rows, then the batch
                    await anyio.to_thread.run_sync(service.unlock, draft)
                elif parsed[0] == "batch":
                    break
    rows = {data["label"]: data["item_id"] for kind, data in events[:3]}
    after = events[4:]
    assert [(kind, data["label"], data["item_id"]) for kind, data in after[:-1]] == [
        ("removed", "1.v2", rows["1.v2"]),
        ("removed", "1.v3", rows["1.v3"]),
        ("item", "1", rows["1.v1"]),  # the series item, named as a draft names it again
    ]
    assert after[-1][1]["status"] == "DRAFT"


def test_a_batch_created_with_item_objects_keeps_their_vars_and_keys_or_is_not_made(
    http: TestClient, service: BatchService
) -> None:
    made = http.post(
        "/v1/batch/",
        json={"name": "mixed", "items": ["plain", {"content": "obj", "vars": {"voice": "alto"},
                                                   "key": "k1"}]},
    )  # fmt: skip
    assert made.status_code == 201, made.text
    assert _items(service, made.json()["id"]) == [
        ("plain", None, None), ("obj", "k1", {"voice": "alto"})
    ]  # fmt: skip
    twice = [{"content": "a", "key": "k"}, {"content": "b", "key": "k"}]
    message = _refused(http.post("/v1/batch/", json={"name": "twice", "items": twice}))
    assert message == "key 'k' is given to items 1, 2; keys are unique"
    assert [s.name for s in service.page(None)[0]] == ["mixed"]  # nothing half made
