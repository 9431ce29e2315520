"""`batchtui web`'s item page (issue 28) names the item as a person does (`2.v2`) and shows its
key and variables, as inert text: a value made of HTML is shown, never run."""

from __future__ import annotations

import re

import httpx
import pytest

from batchtui.service import BatchService
from batchtui.store import Repository

from .test_web import web_server  # noqa: F401  (the fixture)

pytestmark = pytest.mark.slow

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)> & "quotes"'


def test_the_item_page_shows_label_key_and_vars_as_text(web_server, db_path) -> None:  # noqa: F811
    service = BatchService(Repository(db_path))
    made = service.create("Page", generator="command", command="true {voice} {output}")
    service.add_items(
        made.id,
        ["first", "<b>second</b>"],
        [{"voice": "alto"}, {"voice": HOSTILE, "seed": 7}],
        [None, "ep-2"],
    )
    service.update_config(made.id, variants=2)
    service.lock(made.id)
    row = next(item for item in service.get(made.id).items if item.label == "2.v2")
    web = web_server()
    with httpx.Client(base_url=web.base, timeout=30) as client:
        page = client.get(f"/items/{made.id}/{row.id}/")
    assert page.status_code == 200, page.text
    text = page.text
    assert "<h1>Item 2.v2: &lt;b&gt;second&lt;/b&gt;</h1>" in text
    assert "<dt>key</dt><dd>ep-2</dd>" in text
    assert "<dt>seed</dt><dd>7</dd>" in text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in text
    assert "<script" not in text and "<img src=x" not in text and "<b>" not in text
    # Nothing of the item's text opens a tag: every tag on the page is one of ours.
    tags = set(re.findall(r"<([a-zA-Z0-9]+)", text))
    assert tags <= {"html", "head", "meta", "title", "style", "body", "h1", "p", "dl", "dt", "dd"}
