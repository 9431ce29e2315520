"""Who hears of a run, as people set it (issue 31): the config's fields and their one-line
refusals, the host's defaults and secrets in settings.toml, the rule that picks the targets,
templates, and the courier's tries, give-up and resend (in process, against a real receiver)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from batchtui.core.models import BatchConfig, BatchStatus
from batchtui.core.notify_settings import NotifySettings, load_notify_settings
from batchtui.runners.notify.announce import announce
from batchtui.runners.notify.courier import run_courier
from batchtui.runners.notify.outbox import failed, outbox_folder, pending
from batchtui.runners.notify.targets import targets_for
from batchtui.service import BatchService
from batchtui.store import Repository

from .webhook_receiver import receiver

SECRET = "whsec_" + base64.b64encode(b"batchtui-test-secret-0123456789ab").decode()


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Write settings.toml (private) with the given text; its path."""
    folder = tmp_path / "config"
    folder.mkdir()
    monkeypatch.setenv("BATCHTUI_CONFIG_DIR", str(folder))
    path = folder / "settings.toml"

    def write(text: str, mode: int = 0o600) -> Path:
        path.write_text(text)
        path.chmod(mode)
        return path

    return write


@pytest.mark.parametrize(
    ("flags", "said"),
    [
        (["--webhook", "ftp://example.com/x"], "is not an http:// or https:// address"),
        (["--webhook", "https://user:pw@example.com/x"], "carries no user or password"),
        (["--notify", "not a url"], "is not a notification address"),
        (["--events", "ended,sometimes"], "'sometimes' is not an event"),
        (["--on-end", "notify-send {nope}"], "unknown placeholder {nope}"),
        (["--on-end", "{name} x"], "the program (first word) cannot be a placeholder"),
        (["--on-end", "echo 'unbalanced"], "unbalanced quotes"),
        (["--webhook-secret", "two words"], "is not a secret's name"),
        (["--hook-timeout", "0"], "hook_timeout"),
    ],
)
def test_a_bad_target_is_refused_in_one_line_and_nothing_is_made(run_cli, flags, said):
    result = run_cli("create", "News", *flags)
    assert result.code == 2
    assert said in result.err and result.err.count("\n") == 1
    assert run_cli("list", "--json").out.strip() == "[]"


def test_who_hears_of_a_run_may_change_in_any_state_and_is_never_hashed(run_cli, db_path):
    assert run_cli("create", "News").code == 0
    run_cli("add", "News", "one")
    assert run_cli("lock", "News").code == 0
    service = BatchService(Repository(db_path))
    before = service.get("News").config_hash
    result = run_cli(
        "config", "News", "--webhook", "https://a.example/x", "--webhook", "https://b.example/y",
        "--notify", "ntfy://renders", "--on-end", "echo {name} {status}", "--events", "ended,item",
    )  # fmt: skip
    assert result.code == 0, result.err
    batch = service.get("News")
    assert batch.status is BatchStatus.LOCKED  # not unlocked by it
    assert batch.config.webhooks == ["https://a.example/x", "https://b.example/y"]
    assert batch.config.events == ["ended", "item"]
    assert batch.config_hash == before == batch.config.fingerprint()
    refused = run_cli("config", "News", "--duration", "3")  # the rest stays frozen
    assert refused.code == 2 and "needs DRAFT" in refused.err
    assert run_cli("config", "News", "--webhook", "none", "--on-end", "none").code == 0
    config = service.get("News").config
    assert config.webhooks == [] and config.on_end == ""  # none: not even the host's
    assert run_cli("config", "News", "--on-end", "").code == 0
    assert service.get("News").config.on_end is None  # '' gives it back to the host


def test_the_hosts_defaults_apply_where_a_batch_sets_none(settings):
    settings(
        '[notify]\nwebhooks = ["https://host.example/h"]\nnotify = ["ntfy://host"]\n'
        'on_end = "echo {status}"\nevents = ["ended"]\n'
    )
    host = load_notify_settings()
    plain = BatchConfig()
    assert [t.target for t in targets_for(plain, host, "ended")] == [
        "https://host.example/h",
        "ntfy://host",
        "echo {status}",
    ]
    assert targets_for(plain, host, "started") == []  # not among the host's events
    own = BatchConfig(webhooks=["https://own.example/o"], notify=[], on_end="", events=["started"])
    assert [t.target for t in targets_for(own, host, "started")] == ["https://own.example/o"]
    assert targets_for(own, host, "ended") == []  # its events; its hook said none
    hook_only = BatchConfig(events=[], on_end="echo {name}")
    assert [t.kind for t in targets_for(hook_only, host, "ended")] == ["hook"]  # at every end


@pytest.mark.parametrize(
    ("text", "mode", "said"),
    [
        (f'[secrets]\ndefault = "{SECRET}"\n', 0o644, "others may read it (mode 644): chmod 600"),
        ('[secrets]\ndefault = "whsec_c2hvcnQ="\n', 0o600, "at least 24 bytes"),
        ("[notify]\nwebhook = []\n", 0o600, "'webhook' is not a setting"),
        ('[notify]\nwebhooks = ["ftp://x"]\n', 0o600, "not an http:// or https:// address"),
        ("[notify]\nbackoff = -1\n", 0o600, "backoff must be a number of seconds from 0"),
        ("[notify]\nattempts = 2.5\n", 0o600, "attempts must be a whole number"),
        ('[notify]\nevents = ["soon"]\n', 0o600, "'soon' is not an event"),
    ],
)
def test_a_bad_settings_file_is_named_in_one_line(settings, run_cli, text, mode, said):
    path = settings(text, mode)
    result = run_cli("notify", "test")
    assert result.code == 2
    assert said in result.err and str(path) in result.err and result.err.count("\n") == 1


def test_notify_test_says_which_target_answered(settings, run_cli):
    assert run_cli("notify", "test").out.startswith("no webhook or notification target")
    with receiver([]) as good:
        port = good.url.rsplit(":", 1)[1]
        settings(
            f'[notify]\nwebhooks = ["{good.url}/w", "http://127.0.0.1:1/down"]\n'
            f'notify = ["json://127.0.0.1:{port}/people"]\n\n[secrets]\ndefault = "{SECRET}"\n'
        )
        result = run_cli("notify", "test", "--json")
        assert len(good.got) == 2
    assert result.code == 1  # one did not answer
    answers = {a["target"]: a["ok"] for a in json.loads(result.out)["targets"]}
    assert answers == {
        f"{good.url}/w": True,
        "http://127.0.0.1:1/down": False,
        "json://127.0.0.1…": True,  # an address's path may be a token: never shown
    }


def test_a_webhook_without_its_secret_is_not_sent_and_says_how_to_add_one(settings, run_cli):
    with receiver([]) as hooks:
        settings(f'[notify]\nwebhooks = ["{hooks.url}"]\nwebhook_secret = "prod"\n')
        result = run_cli("notify", "test")
        assert hooks.got == []  # never sent unsigned
    assert result.code == 1
    assert "no secret 'prod'" in result.out and 'add [secrets] prod = "whsec_' in result.out


def test_the_courier_gives_up_after_its_tries_and_resend_tries_again(
    settings, run_cli, db_path, monkeypatch
):
    settings(f'[notify]\nattempts = 3\nbackoff = 0.05\n\n[secrets]\ndefault = "{SECRET}"\n')
    monkeypatch.setattr("batchtui.runners.notify.announce.ensure_courier", lambda db: None)
    service = BatchService(Repository(db_path))
    with receiver([503, 503, 503]) as hooks:
        batch = service.create("News", webhooks=[hooks.url], events=["started"])
        assert announce(db_path, batch, "started", batch.created_at) == 1
        assert run_courier(db_path) == 1  # in this process: three tries, then given up
        assert len(hooks.got) == 3
        folder = outbox_folder(db_path)
        assert pending(folder) == [] and len(failed(folder)) == 1
        listed = json.loads(run_cli("notify", "pending", "--json").out)
        assert listed[0]["given_up"] is True and listed[0]["tries"] == 3
        assert listed[0]["last_error"] == "HTTP 503" and listed[0]["type"] == "batch.started"
        monkeypatch.setattr("batchtui.service.announcing.ensure_courier", lambda db: None)
        assert json.loads(run_cli("notify", "resend", "--json").out) == {"resent": 1}
        assert run_courier(db_path) == 1
        assert len(hooks.got) == 4  # delivered now, under the same id
        assert len({r.headers["webhook-id"] for r in hooks.got}) == 1
    assert run_cli("notify", "pending").out.startswith("nothing waiting")


def test_an_event_is_announced_once_per_target(settings, db_path, monkeypatch):
    settings(f'[secrets]\ndefault = "{SECRET}"\n')
    monkeypatch.setattr("batchtui.runners.notify.announce.ensure_courier", lambda db: None)
    service = BatchService(Repository(db_path))
    batch = service.create("News", webhooks=["https://a.example/x"], notify=["ntfy://t"])
    assert announce(db_path, batch, "started", batch.created_at) == 2
    assert announce(db_path, batch, "started", batch.created_at) == 0  # the same event again
    assert announce(db_path, batch, "started", batch.created_at, replace=True) == 2
    assert len(pending(outbox_folder(db_path))) == 2
    assert all(oct(p.stat().st_mode)[-3:] == "600" for p in pending(outbox_folder(db_path)))


def test_a_template_keeps_who_hears_of_a_run(run_cli, db_path, tmp_path, monkeypatch):
    monkeypatch.setenv("BATCHTUI_TEMPLATES", str(tmp_path / "templates"))
    run_cli(
        "create", "News", "--on-end", "echo {name} {status}", "--webhook", "https://a.example/x"
    )
    run_cli("add", "News", "one")
    saved = run_cli("template", "save", "News", "news")
    assert saved.code == 0, saved.err
    made = run_cli("create", "Again", "--template", "news")
    assert made.code == 0, made.err
    config = BatchService(Repository(db_path)).get("Again").config
    assert config.on_end == "echo {name} {status}" and config.webhooks == ["https://a.example/x"]


def test_settings_without_notify_are_the_defaults(settings):
    settings("slots = 2\n")
    host = load_notify_settings()
    assert host == NotifySettings(path=host.path)
    assert host.events == ("started", "failed", "ended") and host.attempts == 8


def test_a_receivers_retry_after_is_obeyed_and_gone_is_final(settings, db_path, monkeypatch):
    settings(f'[notify]\nbackoff = 0.01\n\n[secrets]\ndefault = "{SECRET}"\n')
    monkeypatch.setattr("batchtui.runners.notify.announce.ensure_courier", lambda db: None)
    service = BatchService(Repository(db_path))
    with receiver([(429, {"Retry-After": "1"})]) as slow, receiver([410]) as gone:
        batch = service.create("News", webhooks=[slow.url, gone.url], events=["started"])
        assert announce(db_path, batch, "started", batch.created_at) == 2
        assert run_courier(db_path) == 2
        assert len(slow.got) == 2 and slow.got[1].at - slow.got[0].at >= 1.0  # not sooner
        assert len(gone.got) == 1  # 410 Gone: never tried again
    given_up = [json.loads(p.read_text()) for p in failed(outbox_folder(db_path))]
    assert [d["target"] for d in given_up] == [gone.url]
    assert given_up[0]["last_error"] == "HTTP 410: the receiver is gone"


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        ({"on_end": "echo \x00"}, "on_end has a control character"),
        ({"on_end": "x {name!r}"}, "{name} takes no format or conversion"),
        ({"on_end": "x {status:>10}"}, "{status} takes no format or conversion"),
        ({"budget": True}, "an amount, not true or false"),
        ({"hook_timeout": True}, "an amount, not true or false"),
        ({"webhooks": ["http://a\nb"]}, "no spaces or control characters"),
        ({"webhooks": ["http://a:99999/"]}, "is not a web address"),
    ],
)
def test_hostile_values_are_refused_by_the_config_itself(db_path, fields, said):
    """What the API's PATCH …/config and every client hand the config: refused in one line."""
    from batchtui.core.errors import ValidationError

    service = BatchService(Repository(db_path))
    batch = service.create("News")
    with pytest.raises(ValidationError) as info:
        service.update_config(batch.id, **fields)
    assert said in str(info.value) and "\n" not in str(info.value)
