"""Item keys, variables and variants over HTTP (issue 28): a caller adds items with their own
keys and vars, edits them, locks with variants, runs, follows the run's events and downloads
an output by `key.vN`, all through a real `batchtui serve`."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .test_api import Server, serve, sse

pytestmark = pytest.mark.slow

# Writes its arguments (all but the output path) into the output, as JSON.
ARGV = """
import json, sys
open(sys.argv[-1], "w").write(json.dumps(sys.argv[1:-1]))
"""


@pytest.fixture
def server(db_path: Path) -> Iterator[Server]:
    db_path.parent.mkdir(parents=True, exist_ok=True)
    running = serve(db_path)
    yield running
    running.process.kill()
    running.process.wait()


def _new_batch(client: httpx.Client, tmp_path: Path, **config: object) -> str:
    script = tmp_path / "argv.py"
    script.write_text(ARGV)
    command = f"{sys.executable} {script} {{key}} {{variant}} {{voice}} {{content}} {{output}}"
    made = client.post(
        "/v1/batch/",
        json={
            "name": "Series",
            "config": {
                "generator": "command", "command": command, "output_ext": "txt",
                "validate_output": "exists", "output_dir": str(tmp_path / "out"), **config,
            },
        },
    )  # fmt: skip
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


def test_keys_vars_and_variants_round_trip_through_the_api(server, tmp_path: Path) -> None:
    with server.client() as client:
        batch = _new_batch(client, tmp_path, variants=2)
        items = f"/v1/batch/{batch}/items"
        added = client.post(
            items,
            json={
                "items": [
                    {"content": "Why is the sky blue?", "vars": {"voice": "alto"}, "key": "intro"},
                    {"content": "Tides", "vars": {"voice": "bass", "mood": "calm"}, "key": "tides"},
                ]
            },
        )
        assert added.status_code == 201, added.text
        assert [(i["key"], i["vars"], i["label"]) for i in added.json()] == [
            ("intro", {"voice": "alto"}, "1"),
            ("tides", {"voice": "bass", "mood": "calm"}, "2"),
        ]
        shown = client.get(f"/v1/batch/{batch}").json()["items"]
        assert [(i["key"], i["vars"], i["variant"]) for i in shown] == [
            ("intro", {"voice": "alto"}, None),
            ("tides", {"voice": "bass", "mood": "calm"}, None),
        ]

        # A var set (one with a space, quotes and $(…): one argument), one unset, a new key.
        hostile = "a \"b\" $(touch x) 'c'"
        edited = client.patch(
            f"{items}/tides", json={"vars": {"voice": hostile, "mood": None}, "key": "outro"}
        )
        assert edited.status_code == 200, edited.text
        assert (edited.json()["key"], edited.json()["vars"]) == ("outro", {"voice": hostile})
        assert client.patch(f"{items}/1", json={"content": "Sky"}).json()["content"] == "Sky"
        assert client.get(f"{items}/tides/log").status_code == 404  # the old key is gone

        assert client.post(f"/v1/batch/{batch}/lock").status_code == 200
        rows = client.get(f"/v1/batch/{batch}").json()["items"]
        assert [(i["label"], i["key"], i["variant"]) for i in rows] == [
            ("1.v1", "intro", 1), ("1.v2", "intro", 2), ("2.v1", "outro", 1), ("2.v2", "outro", 2),
        ]  # fmt: skip

        assert client.post(f"/v1/batch/{batch}/start").status_code == 202
        events = sse(client, f"/v1/batch/{batch}/events")
        assert events[-1]["data"]["status"] == "COMPLETE", events[-1]
        done = {
            (e["data"]["label"], e["data"]["key"], e["data"]["variant"]): e["data"]["vars"]
            for e in events
            if e["event"] == "item" and e["data"]["status"] == "SUCCEEDED"
        }
        assert done == {
            ("1.v1", "intro", 1): {"voice": "alto"},
            ("1.v2", "intro", 2): {"voice": "alto"},
            ("2.v1", "outro", 1): {"voice": hostile},
            ("2.v2", "outro", 2): {"voice": hostile},
        }

        outputs = client.get(f"/v1/batch/{batch}/outputs").json()
        assert sorted(Path(i["output_path"]).name for i in outputs) == [
            "01-intro.v1.txt", "01-intro.v2.txt", "02-outro.v1.txt", "02-outro.v2.txt",
        ]  # fmt: skip
        download = client.get(f"{items}/intro.v2/output")
        assert download.status_code == 200
        assert "01-intro.v2.txt" in download.headers["content-disposition"]
        assert json.loads(download.content) == ["intro", "2", "alto", "Sky"]
        outro = client.get(f"{items}/outro.v1/output")
        assert json.loads(outro.content) == ["outro", "1", hostile, "Tides"]
        ambiguous = client.get(f"{items}/intro/output")
        assert ambiguous.status_code == 409 and "1.v1, 1.v2" in ambiguous.json()["error"]["message"]

        # A retry of one variant, named by key: only it runs again.
        again = client.post(f"/v1/batch/{batch}/retry", json={"items": ["outro.v2"]})
        assert again.status_code == 202, again.text
        assert sse(client, f"/v1/batch/{batch}/events")[-1]["data"]["status"] == "COMPLETE"
        rows = client.get(f"/v1/batch/{batch}").json()["items"]
        assert [(i["label"], i["attempts"]) for i in rows] == [
            ("1.v1", 1), ("1.v2", 1), ("2.v1", 1), ("2.v2", 2),
        ]  # fmt: skip


def test_a_key_given_twice_or_already_taken_adds_nothing(server, tmp_path: Path) -> None:
    with server.client() as client:
        batch = _new_batch(client, tmp_path)
        items = f"/v1/batch/{batch}/items"
        assert client.post(items, json={"items": [{"content": "a", "key": "intro"}]}).is_success
        for body, words in (
            (
                {"items": [{"content": "b", "key": "ep"}, {"content": "c", "key": "ep"}]},
                "key 'ep' is given to items 1, 2",
            ),
            (
                {"items": [{"content": "b", "key": "new"}, {"content": "c", "key": "intro"}]},
                "key 'intro' already names item 1",
            ),
        ):
            refused = client.post(items, json=body)
            assert refused.status_code == 422, refused.text
            assert words in refused.json()["error"]["message"]
        taken = client.patch(f"{items}/1", json={"key": "intro"})
        assert taken.status_code == 200  # its own key again: nothing changes
        assert [i["key"] for i in client.get(f"/v1/batch/{batch}").json()["items"]] == ["intro"]
        dropped = client.patch(f"{items}/intro", json={"key": None})
        assert dropped.status_code == 200 and dropped.json()["key"] is None
        again = client.patch(f"{items}/1", json={"key": "intro"})
        assert again.json()["key"] == "intro"
        assert client.patch(f"{items}/intro", json={"key": ""}).json()["key"] is None


def test_a_locked_batch_refuses_edits_of_vars_and_keys(server, tmp_path: Path) -> None:
    with server.client() as client:
        batch = _new_batch(client, tmp_path)
        items = f"/v1/batch/{batch}/items"
        body = {"items": [{"content": "a", "vars": {"voice": "alto"}, "key": "a1"}]}
        assert client.post(items, json=body).is_success
        assert client.post(f"/v1/batch/{batch}/lock").status_code == 200
        for change in ({"vars": {"voice": "bass"}}, {"key": "b1"}, {"vars": {"voice": None}}):
            refused = client.patch(f"{items}/a1", json=change)
            assert refused.status_code == 409, refused.text
        shown = client.get(f"/v1/batch/{batch}").json()["items"]
        assert [(i["key"], i["vars"]) for i in shown] == [("a1", {"voice": "alto"})]
