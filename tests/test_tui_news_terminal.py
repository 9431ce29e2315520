"""The news dialog in the real app, in a pty at 80x24, on a batch that has finished (who hears
of a run may change in any state): keys in one write (tabs between the boxes, enters behind),
a refusal said with the text kept, a paste both ways, escape saving nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from batchtui.core.models import BatchStatus, ItemStatus
from batchtui.service import BatchService
from batchtui.store import Repository

from .terminal import Terminal, bracketed
from .tui_support import batch, ran, store

pytestmark = pytest.mark.slow

ESCAPE = b"\x1b"
CTRL_U = b"\x15"


def finished(db_path: Path) -> str:
    done = batch(3, "Shorts", BatchStatus.COMPLETE, [ran(1, "one", ItemStatus.SUCCEEDED)])
    store(db_path, done)
    return done.id


def news_of(db_path: Path, batch_id: str) -> tuple[object, ...]:
    config = BatchService(Repository(db_path)).get(batch_id).config
    return config.webhooks, config.notify, config.on_end, config.events


def open_dialog(term: Terminal) -> None:
    term.wait_for("Shorts")
    term.send(b"\r")  # the list's enter: its progress (it has ended)
    term.wait_for("COMPLETE")
    term.send(b"N")
    term.wait_for("News of 'Shorts'")


def test_tabs_and_enters_in_one_write_fill_each_box_and_save_once(db_path: Path) -> None:
    batch_id = finished(db_path)
    with Terminal.batchtui(db_path) as term:
        open_dialog(term)
        term.send(b"https://a.example/h\t\tntfy://renders\techo {name}\t\tended\r\r")
        term.wait_for("saved who hears of its runs")
        assert news_of(db_path, batch_id) == (
            ["https://a.example/h"], ["ntfy://renders"], "echo {name}", ["ended"],
        )  # fmt: skip
        assert "COMPLETE" in term.text() and "Traceback" not in term.text()


def test_a_refusal_is_said_and_the_text_kept_then_escape_saves_nothing(db_path: Path) -> None:
    batch_id = finished(db_path)
    with Terminal.batchtui(db_path) as term:
        open_dialog(term)
        term.send(b"ftp://x\r\r")  # two enters: refused twice, the dialog stays
        term.wait_for("'ftp://x' is not an http:// or https:// address")
        assert "News of 'Shorts'" in term.text()
        term.send(CTRL_U + bracketed("https://pasted.example/w"))
        term.wait_for("https://pasted.example/w")
        term.send(b"\t\t" + b"ntfy://one\nignored")  # an unbracketed paste: LF is enter
        term.wait_for("saved who hears of its runs")
        assert news_of(db_path, batch_id)[:2] == (["https://pasted.example/w"], ["ntfy://one"])
        term.send(b"N")
        term.wait_for("News of 'Shorts'")
        term.send(CTRL_U + b"https://other.example/" + ESCAPE)
        term.wait_for(lambda s: "News of" not in s)
        assert news_of(db_path, batch_id)[0] == ["https://pasted.example/w"]


def test_a_boxs_editing_keys_act_in_the_order_they_came(db_path: Path) -> None:
    """Backspace, ctrl+u and ← in the same read as the letters around them: each acts where
    it came (as a binding each ran after the keys read behind it: `ab⌫c` gave 'ab', and
    ctrl+u right before a paste deleted the paste)."""
    batch_id = finished(db_path)
    with Terminal.batchtui(db_path) as term:
        open_dialog(term)
        term.send(b"https://x.example/ab\x7fc")
        term.wait_for("https://x.example/ac")
        term.send(CTRL_U + bracketed("https://pasted.example/w") + b"\x1b[D\x1b[Dv")
        term.wait_for("https://pasted.examplev/w")
        term.send(b"\r")
        term.wait_for("saved who hears of its runs")
        assert news_of(db_path, batch_id)[0] == ["https://pasted.examplev/w"]


def test_ctrl_t_tests_the_saved_targets_and_says_who_answered(db_path, tmp_path):
    import base64

    from .webhook_receiver import receiver

    config = tmp_path / "config"
    config.mkdir()
    secret = "whsec_" + base64.b64encode(b"k" * 32).decode()
    (config / "settings.toml").write_text(f'[secrets]\ndefault = "{secret}"\n')
    (config / "settings.toml").chmod(0o600)
    batch_id = finished(db_path)
    with receiver() as hooks:
        service = BatchService(Repository(db_path))
        service.update_config(batch_id, webhooks=[hooks.url + "/t", "http://127.0.0.1:1/down"])
        with Terminal.batchtui(db_path, env={"BATCHTUI_CONFIG_DIR": str(config)}) as term:
            open_dialog(term)
            term.send(b"\x14")  # ctrl+t
            term.wait_for("/t: answered")
            term.wait_for("/down: no: no answer")
            assert "News of 'Shorts'" in term.text()  # the dialog stays
        assert len(hooks.got) == 1 and b"batchtui.test" in hooks.got[0].body
