"""File names keep people's words in any script: the one slug rule, and the names a run makes."""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from batchtui.core.models import ItemStatus
from batchtui.core.slug import SLUG_BYTES, slug
from batchtui.engine.layout import batch_folder, output_name

from .test_engine import fake_batch


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Why is space dark?", "why-is-space-dark"),
        ("量子物理 入门", "量子物理-入门"),
        ("宇宙の始まり", "宇宙の始まり"),
        ("مرحبا بالعالم", "مرحبا-بالعالم"),
        ("नमस्ते दुनिया", "नमस्ते-दुनिया"),  # combining vowel signs stay with their letters
        ("ＦＵＬＬ　ｗｉｄｔｈ", "full-width"),  # NFKC
        ("🚀 Rocket 🎬", "rocket"),
        ("🚀🎬✨", ""),
        ("../../etc/passwd", "etc-passwd"),
        ("AC/DC: 1/2", "ac-dc-1-2"),  # as earlier releases named it
        ("two\tlines\nhere", "two-lines-here"),
        ("a\x00b\x1bc\u202ed", "abcd"),  # controls and invisible characters go
        ("...hidden", "hidden"),
        ("..", ""),
    ],
)
def test_a_slug_keeps_letters_of_any_script_and_nothing_unsafe(text, expected):
    assert slug(text) == expected


def test_a_long_slug_is_cut_in_bytes_at_a_character_boundary():
    cut = slug("宇宙" * 200)
    assert 0 < len(cut.encode()) <= SLUG_BYTES
    assert cut == "宇宙" * (len(cut) // 2)
    # A letter is never cut off from its combining marks: 'स' + virama stay together or go.
    assert slug("नमस्ते", max_bytes=9) == "नम"
    assert slug("नमस्ते", max_bytes=12) == "नमस्"
    # A whole file name stays within ext4's 255 bytes, whatever the words.
    assert len(output_name(999, "ü" * 500 + "宇" * 500, 999, "mp4").encode()) < 255


@pytest.mark.parametrize(
    ("content", "name"),
    [
        ("量子物理入门", "04-量子物理入门.mp4"),
        ("宇宙の始まり", "04-宇宙の始まり.mp4"),
        ("مرحبا بالعالم", "04-مرحبا-بالعالم.mp4"),
        ("🚀🎬", "04.mp4"),  # the item number names it, never "item"
        ("../../x\x00y", "04-xy.mp4"),
        ("Why is space dark?", "04-why-is-space-dark.mp4"),
    ],
)
def test_output_names_keep_the_words(content, name):
    assert output_name(4, content, 10, "mp4") == name


def test_a_batch_folder_keeps_a_non_latin_name(tmp_path):
    from batchtui.core.models import BatchConfig

    config = BatchConfig(output_dir=str(tmp_path))
    assert batch_folder(config, "abcdef123456", "宇宙の話").name == "宇宙の話-abcdef123456"
    assert batch_folder(config, "abcdef123456", "🚀").name == "batch-abcdef123456"


def _made_by(folder, batch_id):
    folder.mkdir()
    (folder / "manifest.jsonl").write_text(f'{{"kind": "run", "batch_id": "{batch_id}"}}\n')


def test_a_batch_keeps_the_folder_an_earlier_release_named(tmp_path):
    from batchtui.core.models import BatchConfig

    config = BatchConfig(output_dir=str(tmp_path))
    mine = "abcdef123456"
    assert batch_folder(config, mine, "Café Facts").name == f"café-facts-{mine}"
    _made_by(tmp_path / "cafe-facts-abcdef", mine)  # before names kept accents and whole ids
    assert batch_folder(config, mine, "Café Facts").name == "cafe-facts-abcdef"
    _made_by(tmp_path / "宇宙-abcdef", mine)
    assert batch_folder(config, mine, "宇宙").name == "宇宙-abcdef"


def test_same_name_batches_whose_ids_start_alike_never_share_a_folder(tmp_path):
    """With six hex digits of the id in the name, 5,000 same-name batches shared folders about
    half the time: one run overwrote the other's outputs, a delete --outputs removed them."""
    from batchtui.core.models import BatchConfig

    config = BatchConfig(output_dir=str(tmp_path))
    first, second = "abcdef000001", "abcdef999999"
    assert batch_folder(config, first, "Daily").name != batch_folder(config, second, "Daily").name
    _made_by(tmp_path / "daily-abcdef", first)  # the first one's folder, named the old way
    assert batch_folder(config, first, "Daily").name == "daily-abcdef"
    assert batch_folder(config, second, "Daily").name == f"daily-{second}"
    (tmp_path / "weekly-abcdef").mkdir()  # an old folder that says nothing of its batch
    assert batch_folder(config, first, "Weekly").name == f"weekly-{first}"


@pytest.mark.anyio
async def test_a_run_names_its_files_in_the_items_own_words(service, fake_generator):
    contents = ["量子物理入门", "宇宙の始まり", "مرحبا بالعالم", "🚀🎬", "x" * 400]
    contents.append("../../etc/\x1bpasswd")
    batch = await service.start(fake_batch(service, contents))
    assert [item.status for item in batch.items] == [ItemStatus.SUCCEEDED] * len(contents)
    names = [Path(item.output_path).name for item in batch.items]
    assert names[:4] == [
        "01-量子物理入门.txt",
        "02-宇宙の始まり.txt",
        "03-مرحبا-بالعالم.txt",
        "04.txt",
    ]
    assert names[4] == "05-" + "x" * 40 + ".txt"
    assert names[5] == "06-etc-passwd.txt"
    folder = Path(batch.items[0].output_path).parent
    for item in batch.items:
        output = Path(item.output_path)
        assert output.parent == folder, "no name climbs out of the batch folder"
        assert output.read_text() == item.content
        assert Path(item.log_path).parent == folder / "logs"
    assert not any(name.startswith(".") for name in os.listdir(folder) if name != ".work")


@given(st.text())
def test_no_text_makes_an_unsafe_name(text):
    made = slug(text)
    assert "/" not in made and "\\" not in made and "\x00" not in made
    assert not made.startswith((".", "-")) and not made.endswith("-")
    assert made not in (".", "..")
    assert len(made.encode()) <= SLUG_BYTES and len(made) <= 40
    assert all(unicodedata.category(ch)[0] in "LNM" or ch == "-" for ch in made)
