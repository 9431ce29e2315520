"""The API's side of review: a verdict per item (`POST …/items/{item}/review`), counts in
progress, `outputs?approved=true`, and `retry` with `rejected: true` making exactly the
rejected items again as new takes, through a real runner process."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from batchtui.api.app import create_app
from batchtui.service import BatchService
from batchtui.store import Repository


@pytest.fixture
def client(db_path) -> TestClient:
    return TestClient(create_app(BatchService(Repository(db_path))))


def _finished(client: TestClient, service: BatchService, script: Path, out: Path) -> str:
    config = {
        "generator": "command",
        "command": f"{script} {{content}} {{output}} {{take}}",
        "output_ext": "txt",
        "output_dir": str(out),
    }
    made = client.post("/v1/batch", json={"name": "A", "config": config, "items": ["a", "b", "c"]})
    assert made.status_code == 201, made.text
    batch_id = made.json()["id"]
    assert client.post(f"/v1/batch/{batch_id}/lock").status_code == 200
    assert client.post(f"/v1/batch/{batch_id}/start").status_code == 202
    _wait_ended(service, batch_id)
    return batch_id


def _wait_ended(service: BatchService, batch_id: str) -> None:
    deadline = time.monotonic() + 30
    while service.get(batch_id).status.value in ("PROCESSING", "LOCKED"):
        assert time.monotonic() < deadline, "the run never ended"
        time.sleep(0.05)


def test_review_round_trip_by_the_api(client, db_path, make_script, out_dir):
    service = BatchService(Repository(db_path))
    script = make_script(
        "w.py", "import sys\nopen(sys.argv[2], 'w').write(sys.argv[1] + sys.argv[3])\n"
    )
    batch_id = _finished(client, service, script, out_dir)

    ok = client.post(f"/v1/batch/{batch_id}/items/1/review", json={"verdict": "approve"})
    assert ok.status_code == 200, ok.text
    assert ok.json()["review_state"] == "approved" and ok.json()["review"]["verdict"] == "approved"
    no = client.post(
        f"/v1/batch/{batch_id}/items/3/review", json={"verdict": "reject", "note": "blurry"}
    )
    assert no.status_code == 200 and no.json()["review"]["note"] == "blurry"
    progress = client.get(f"/v1/batch/{batch_id}/progress").json()
    assert progress["review"] == {"approved": 1, "rejected": 1, "to_review": 1}
    approved = client.get(f"/v1/batch/{batch_id}/outputs", params={"approved": "true"}).json()
    assert [item["position"] for item in approved] == [1]

    again = client.post(f"/v1/batch/{batch_id}/retry", json={"rejected": True})
    assert again.status_code == 202, again.text
    _wait_ended(service, batch_id)
    batch = service.get(batch_id)
    third = batch.items[2]
    assert third.take == 2 and third.review is None and third.attempts == 2
    assert Path(third.output_path).read_text() == "c2"
    assert Path(third.takes[0].output).read_text() == "c1"  # kept as 03-c.v1.txt
    assert Path(third.takes[0].output).name == "03-c.v1.txt"
    assert [item.attempts for item in batch.items] == [1, 1, 2]  # only the rejected one


def test_bad_reviews_are_refused_with_a_clear_error(client, db_path, make_script, out_dir):
    service = BatchService(Repository(db_path))
    script = make_script("w.py", "import sys\nopen(sys.argv[2], 'w').write('x')\n")
    batch_id = _finished(client, service, script, out_dir)
    url = f"/v1/batch/{batch_id}/items"
    for path, body, code, words in (
        (f"{url}/9/review", {"verdict": "approve"}, 404, "no item '9'"),
        (f"{url}/1/review", {"verdict": "maybe"}, 422, "verdict"),
        (f"{url}/1/review", {"verdict": "reject", "note": "x" * 501}, 422, "note"),
        (f"{url}/1/review", {"verdict": "reject", "extra": 1}, 422, "extra"),
        (f"{url}/1/review", {}, 422, "verdict"),
    ):
        answer = client.post(path, json=body)
        assert answer.status_code == code and words in answer.text, (path, body, answer.text)
    nothing = client.post(f"/v1/batch/{batch_id}/retry", json={"rejected": True})
    assert nothing.status_code == 422 and "no rejected output" in nothing.text
    both = client.post(f"/v1/batch/{batch_id}/retry", json={"rejected": True, "items": [1]})
    assert both.status_code == 422
    for truthy in ("yes", 1, "true"):  # a yes is `true`, never something that reads as one
        vague = client.post(f"/v1/batch/{batch_id}/retry", json={"rejected": truthy})
        assert (
            vague.status_code == 422 and "rejected: Input should be a valid boolean" in vague.text
        )
    for item in (True, 1.0):  # true is not item 1
        vague = client.post(f"/v1/batch/{batch_id}/retry", json={"items": [item]})
        assert vague.status_code == 422 and "items.0" in vague.text
    vague = client.post(f"/v1/batch/{batch_id}/retry", json={"confirm_forecast": "yes"})
    assert vague.status_code == 422 and "confirm_forecast" in vague.text
    assert all(item.review is None for item in service.get(batch_id).items)
