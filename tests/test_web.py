"""`batchtui web` as its users drive it: a real server on a free port, a real headless Chromium
(Playwright) typing into the TUI in the page, and the CLI checking the database."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from .helpers import pid_alive

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TOKEN = "web-token-0123456789abcdef"
UPGRADE = {
    "Connection": "Upgrade",
    "Upgrade": "websocket",
    "Sec-WebSocket-Version": "13",
    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
}
"""The headers of a websocket handshake."""

# Every frame the page's websocket receives, kept as text: xterm.js draws on a canvas, so this
# is how a test reads what the TUI shows (escape sequences removed).
RECORD_FRAMES = """
window.__frames = [];
const Original = window.WebSocket;
window.WebSocket = class extends Original {
  constructor(...args) {
    super(...args);
    this.addEventListener("message", (event) => {
      if (typeof event.data !== "string") {
        window.__frames.push(new TextDecoder().decode(new Uint8Array(event.data)));
      }
    });
  }
};
window.__shown = () =>
  window.__frames.join("").replace(/\\x1b\\[[0-9;?<>=]*[ -\\/]*[@-~]/g, "");
"""


@dataclass
class Web:
    process: subprocess.Popen
    url: str
    """As the server printed it (with `?token=…` when it has one)."""
    line: str

    @property
    def base(self) -> str:
        return self.url.split("?", 1)[0].rstrip("/")


def start_web(db_path: Path, *args: str) -> Web:
    """Start `batchtui web --port 0` and wait for the line that says where it listens."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [sys.executable, "-m", "batchtui", "--db", str(db_path), "web", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    found = re.search(r"http://[\d.]+:\d+/\S*", line)
    if found is None:
        process.kill()
        raise AssertionError(f"web did not start: {line}{process.stdout.read()}")
    return Web(process, found.group(0), line)


def stop_web(web: Web) -> None:
    web.process.send_signal(signal.SIGINT)
    try:
        web.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        web.process.kill()
        web.process.wait()
        raise AssertionError("batchtui web did not stop on ctrl+c") from None


@pytest.fixture
def web_server(db_path: Path) -> Iterator[Callable[..., Web]]:
    started: list[Web] = []

    def start(*args: str) -> Web:
        started.append(start_web(db_path, *args))
        return started[-1]

    yield start
    for web in started:
        if web.process.poll() is None:
            stop_web(web)


def cli_json(db_path: Path, *args: str) -> Any:
    done = subprocess.run(
        [sys.executable, "-m", "batchtui", "--db", str(db_path), *args, "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def poll(what: str, check: Callable[[], Any], limit: float = 60.0) -> Any:
    """`check()` until it returns something true; fail after `limit` seconds."""
    deadline = time.monotonic() + limit
    while not (found := check()):
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.1)
    return found


def children(pid: int) -> list[int]:
    """The live child processes of `pid` (Linux: /proc)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with open(task / "children") as handle:
            found += [int(child) for child in handle.read().split()]
    return [child for child in found if pid_alive(child)]


def runner_pids(batch_id: str) -> list[int]:
    """Processes running `batchtui _runner batch_id`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                argv = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"_runner" in argv and batch_id.encode() in argv:
                found.append(int(entry.name))
    return found


# ------------------------------------------------------------------- the browser


@pytest.fixture
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="needs playwright (the test extra)"
    )
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"needs Chromium at {CHROMIUM} (apt-get install chromium)")
    # Playwright starts its driver with asyncio's subprocess support: an event loop policy
    # an earlier test left behind (with a child watcher never attached to a loop) refuses
    # that, so this test starts from a fresh default policy.
    asyncio.set_event_loop_policy(None)
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def open_tab(browser: Any, web: Web) -> Any:
    """A page showing the TUI, ready for keys (no request leaves this machine)."""
    page = browser.new_page(viewport={"width": 1100, "height": 700})
    page.route(
        "**/*",
        lambda route: (
            route.continue_() if route.request.url.startswith(web.base) else route.abort()
        ),  # the page asks Google for a font: never in a test
    )
    page.add_init_script(RECORD_FRAMES)
    page.goto(web.url)
    start = page.locator("#start")  # textual-serve's "Start" button (only with ?delay)
    if start.is_visible():
        start.click()
    page.wait_for_selector(".xterm-screen canvas", state="attached", timeout=30_000)
    page.wait_for_selector("body.-first-byte", timeout=30_000)
    page.focus("textarea.xterm-helper-textarea")
    return page


def shown_length(page: Any) -> int:
    """How much the tab has shown so far (a mark for `shown_after`)."""
    return int(page.evaluate("window.__shown().length"))


def shown_after(page: Any, text: str, mark: int, *, press: str, limit: float = 3.0) -> bool:
    """Press `press`, then whether `text` is shown after `mark` within `limit` seconds."""
    page.keyboard.press(press)
    try:
        page.wait_for_function(
            "([text, mark]) => window.__shown().slice(mark).includes(text)",
            arg=[text, mark], timeout=limit * 1000,
        )  # fmt: skip
    except Exception:  # not (yet): the caller decides
        return False
    return True


def wait_shown(page: Any, text: str) -> None:
    try:
        page.wait_for_function(
            "(text) => window.__shown().includes(text)", arg=text, timeout=30_000
        )
    except Exception as error:  # say what the tab showed instead
        shown = page.evaluate("window.__shown()")[-1500:]
        raise AssertionError(f"the tab never showed {text!r}; its end: {shown!r}") from error


# ----------------------------------------------------------------------- tests


def test_the_page_shows_the_tui_and_e_makes_the_example_batch(browser, web_server, db_path):
    web = web_server()
    assert "closing a tab never stops a run" in web.line and str(db_path) in web.line
    page = open_tab(browser, web)
    wait_shown(page, "No batches yet")  # the batch list is up, on an empty database
    page.keyboard.press("e")
    made = poll(
        "the example batch in batchtui list --json",
        lambda: [
            b
            for b in cli_json(db_path, "list")
            if b["name"] == "Space Facts" and b["progress"]["total"] == 3
        ],
    )
    assert made[0]["status"] == "DRAFT" and made[0]["progress"]["total"] == 3
    wait_shown(page, "Space Facts")  # and the tab shows it


def test_a_run_started_in_a_tab_goes_on_after_the_browser_closes(
    browser, web_server, db_path, make_script, tmp_path
):
    """Started from the page (with a token, so the cookie path is the one used), then the
    browser closes while every item waits on a gate: the batch still ends COMPLETE."""
    gate = tmp_path / "gate"
    script = make_script(
        "gated.py",
        """\
        import pathlib, sys, time
        while not pathlib.Path(sys.argv[1]).exists():
            time.sleep(0.05)
        pathlib.Path(sys.argv[2]).write_text("made\\n")
        """,
    )
    made = cli_json(
        db_path, "create", "Gated", "--generator", "command",
        "--command", f"{shlex.quote(str(script))} {shlex.quote(str(gate))} {{output}}",
        "--ext", "txt", "--validate", "nonempty", "--timeout", "120",
    )  # fmt: skip
    cli_json(db_path, "add", made["id"], "one", "two", "three")
    cli_json(db_path, "lock", made["id"])
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    token_file.chmod(0o600)  # a token others can read is refused
    web = web_server("--token-file", str(token_file))
    assert web.url.endswith(f"/?token={TOKEN}")
    try:
        page = open_tab(browser, web)
        assert "token" not in page.url  # the token became a cookie; the address lost it
        wait_shown(page, "Gated")
        # The first frame can come before the terminal takes keys (a loaded machine): a key
        # lost then is pressed again (10 s apart: a slow answer is not taken for a lost key).
        for _ in range(6):
            if shown_after(page, "Not now", shown_length(page), press="s", limit=10):
                break  # start: the dialog first
        wait_shown(page, "Not now  esc/n")
        page.keyboard.press("s")
        poll(
            "the batch to be PROCESSING",
            lambda: cli_json(db_path, "show", made["id"])["status"] == "PROCESSING",
        )
        tabs = children(web.process.pid)
        assert len(tabs) == 1, tabs  # this tab's TUI
        runners = poll("its runner", lambda: runner_pids(made["id"]))
        assert os.getsid(runners[0]) != os.getsid(tabs[0])  # a session of its own
        page.close()
        browser.close()
        poll("the tab's TUI to end", lambda: not children(web.process.pid))
        assert not pid_alive(tabs[0]) and pid_alive(runners[0])
        shown = cli_json(db_path, "show", made["id"])  # (also recovers a run whose runner died)
        assert shown["status"] == "PROCESSING", shown
    finally:
        gate.touch()  # let the items finish, whatever happened
    ended = poll(
        "the batch to end",
        lambda: (b := cli_json(db_path, "show", made["id"]))["status"] != "PROCESSING" and b,
    )
    assert ended["status"] == "COMPLETE", ended
    assert all(Path(item["output_path"]).read_text() == "made\n" for item in ended["items"])


def test_a_token_is_required_off_loopback_and_on_every_request(web_server, db_path, tmp_path):
    db_path.parent.mkdir(parents=True, exist_ok=True)
    refused = subprocess.run(
        [sys.executable, "-m", "batchtui", "--db", str(db_path), "web", "--host", "0.0.0.0"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert refused.returncode == 2 and refused.stdout == "", refused
    assert refused.stderr.count("\n") == 1 and "needs --token-file" in refused.stderr
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    token_file.chmod(0o600)  # a token others can read is refused
    web = web_server("--token-file", str(token_file))
    cookie = f"batchtui-web-{web.base.rsplit(':', 1)[1]}"
    with httpx.Client(base_url=web.base, timeout=30) as client:
        for path in ("/", "/static/js/textual.js", "/ws", "/?token=wrong-token-0123456789"):
            assert client.get(path).status_code == 401, path
        assert client.get("/ws", headers=UPGRADE).status_code == 401
        assert client.get("/", headers={"Cookie": f"{cookie}=wrong"}).status_code == 401
        given = client.get(f"/?token={TOKEN}&fontsize=20")
        assert given.status_code == 303 and given.headers["location"] == "/?fontsize=20"
        set_cookie = given.headers["set-cookie"]
        assert set_cookie.startswith(f"{cookie}={TOKEN};") and "HttpOnly" in set_cookie
        assert "SameSite=Lax" in set_cookie
        with_cookie = {"Cookie": f"{cookie}={TOKEN}"}
        page = client.get("/", headers=with_cookie)
        assert page.status_code == 200 and f'"ws://{web.base[7:]}/ws"' in page.text
        assert client.get("/static/js/textual.js", headers=with_cookie).status_code == 200
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        assert client.get("/", headers=bearer).status_code == 200
        foreign = {**UPGRADE, **with_cookie, "Origin": "http://evil.example"}  # another site
        assert client.get("/ws", headers=foreign).status_code == 403


def test_without_a_token_only_loopback_names_and_same_origin_sockets(web_server):
    web = web_server()
    foreign = {**UPGRADE, "Origin": "http://evil.example"}
    with httpx.Client(base_url=web.base, timeout=30) as client:
        assert client.get("/").status_code == 200
        # A name rebound to 127.0.0.1 by a web site's DNS: refused.
        assert client.get("/", headers={"Host": "evil.example:80"}).status_code == 403
        assert client.get("/ws", headers=foreign).status_code == 403


VIDEO = b"\x00\x00\x00\x18ftypmp42 not really a video \xff\xfe"
POSTER_BYTES = b"\x89PNG\r\n\x1a\n a poster"


def test_keys_without_a_click_a_run_and_its_video_all_from_this_machine(
    browser, web_server, db_path, make_script, tmp_path
):
    """The page as a person uses it: loaded, typed into without a click, a run started from
    it, the item's video and poster opened and downloaded through the page's server; every
    request the browser makes goes to that server (no font service, nothing else)."""
    script = make_script(
        "video.py",
        f"""\
        import pathlib, sys
        out = pathlib.Path(sys.argv[1])
        out.write_bytes({VIDEO!r})
        out.with_name(out.stem + ".poster.png").write_bytes({POSTER_BYTES!r})
        """,
    )
    made = cli_json(
        db_path, "create", "Films", "--generator", "command",
        "--command", f"{shlex.quote(str(script))} {{output}}",
        "--ext", "mp4", "--validate", "nonempty", "--timeout", "60",
    )  # fmt: skip
    cli_json(db_path, "add", made["id"], "the moon")
    cli_json(db_path, "lock", made["id"])
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    token_file.chmod(0o600)
    web = web_server("--token-file", str(token_file))
    page = browser.new_page(viewport={"width": 1100, "height": 700})
    requested: list[str] = []
    page.context.on("request", lambda request: requested.append(request.url))  # every tab's
    page.add_init_script(RECORD_FRAMES)
    page.goto(web.url)  # and no click, no focus(): the page gives the terminal the keys
    wait_shown(page, "Films")
    # The first frame can come before the terminal takes keys (a loaded machine): a key lost
    # then is pressed again (10 s apart: a slow answer is not taken for a lost key).
    for _ in range(6):
        if shown_after(page, "Not now", shown_length(page), press="s", limit=10):
            break  # start: the dialog first
    wait_shown(page, "Not now")  # the start dialog is up
    page.keyboard.press("s")
    ended = poll(
        "the run to end",
        lambda: (
            (b := cli_json(db_path, "show", made["id"]))["status"] != "PROCESSING"
            and b["status"] != "LOCKED"
            and b
        ),
    )
    assert ended["status"] == "COMPLETE", ended
    item = ended["items"][0]
    assert Path(item["output_path"]).read_bytes() == VIDEO
    base = f"{web.base}/items/{made['id']}/{item['id']}/"
    # In the TUI: the run's screen, enter on the item for its detail, o for its page (a tab).
    wait_shown(page, "outputs in")
    page.keyboard.press("Enter")
    wait_shown(page, "Item 1 of 1")
    with page.context.expect_page() as opened:
        page.keyboard.press("o")
    tab = opened.value
    tab.wait_for_load_state()
    assert tab.url == base
    assert tab.locator("video").get_attribute("poster") is not None
    page = tab
    assert page.locator("video").get_attribute("poster") is not None
    fetched = page.evaluate(
        """async (url) => Array.from(new Uint8Array(
            await (await fetch(url)).arrayBuffer()))""",
        base + "output",
    )
    assert bytes(fetched) == VIDEO
    poster = page.evaluate(
        """async (url) => Array.from(new Uint8Array(
            await (await fetch(url)).arrayBuffer()))""",
        base + "poster",
    )
    assert bytes(poster) == POSTER_BYTES
    with page.expect_download() as download:
        page.locator("a[download]").first.click()
    assert Path(download.value.path()).read_bytes() == VIDEO
    assert requested and all(url.startswith(web.base + "/") for url in requested), [
        url for url in requested if not url.startswith(web.base + "/")
    ]


def test_an_items_files_only_and_only_with_the_token(web_server, db_path, tmp_path):
    """The item addresses are behind the token like the page, name no path, and serve
    nothing but the files the item's record names."""
    made = cli_json(db_path, "create", "Guarded", "--generator", "command",
                    "--command", "true {output}")  # fmt: skip
    cli_json(db_path, "add", made["id"], "one")
    item_id = cli_json(db_path, "show", made["id"])["items"][0]["id"]
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    token_file.chmod(0o600)
    web = web_server("--token-file", str(token_file))
    base = f"/items/{made['id']}/{item_id}/"
    with httpx.Client(base_url=web.base, timeout=30) as client:
        assert client.get(base + "output").status_code == 401  # no token: nothing
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        assert client.get(base, headers=bearer).status_code == 200
        assert client.get(base + "output", headers=bearer).status_code == 404  # none yet
        for path in (
            f"/items/{made['id']}/{item_id}/..%2F..%2Fbatchtui.json",
            f"/items/{made['id']}/..%2F..%2Fdata/batchtui.json",
            f"/items/nope/{item_id}/output",
            f"/items/{made['id']}/{item_id}/log",
        ):
            answer = client.get(path, headers=bearer)
            assert answer.status_code == 404, (path, answer.status_code)
            assert made["id"] not in answer.text


def test_a_key_typed_as_the_page_loads_is_not_lost(browser, web_server, db_path):
    """`e` pressed the moment the page has loaded, before the TUI has drawn anything (its
    websocket may still be connecting): it reaches the TUI, which makes the example."""
    web = web_server()
    page = browser.new_page(viewport={"width": 1100, "height": 700})
    page.goto(web.url)
    page.keyboard.press("e")  # no click, no wait for the terminal
    made = poll(
        "the example batch in batchtui list --json",
        # made, then filled: wait for its three items, not only its name
        lambda: [
            b
            for b in cli_json(db_path, "list")
            if b["name"] == "Space Facts" and b["progress"]["total"] == 3
        ],
    )
    assert made[0]["progress"]["total"] == 3


def test_the_contact_sheet_shows_real_pictures_and_an_item_plays(
    browser, web_server, db_path, tmp_path
):
    """A titlecard series reviewed in part: its sheet page shows each output's real picture
    (decoded by the browser), its reviews, and links to the item's page, which plays the
    video; nothing is asked of another host."""
    made = cli_json(
        db_path, "create", "Cards", "--duration", "1", "--output", str(tmp_path / "out")
    )
    cli_json(db_path, "add", made["id"], "Honey never spoils", "Octopus hearts")
    cli_json(db_path, "lock", made["id"])
    subprocess.run(
        [sys.executable, "-m", "batchtui", "--db", str(db_path), "start", made["id"]],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    cli_json(db_path, "review", made["id"], "2", "reject", "--note", "<b>too</b> dark")
    web = web_server()
    page = browser.new_page(viewport={"width": 1000, "height": 800})
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{web.base}/sheets/{made['id']}/")
    page.wait_for_function(
        "Array.from(document.images).length == 2 && "
        "Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)"
    )
    sizes = page.evaluate("Array.from(document.images).map(i => [i.naturalWidth, i.naturalHeight])")
    assert all(height > width > 100 for width, height in sizes)  # 9:16 posters, decoded
    text = page.inner_text("body")
    assert "0 approved · 1 rejected · 1 to review" in text and "✘ rejected" in text
    page.screenshot(path=str(tmp_path / "sheet.png"))
    page.locator("figure a").nth(1).click()
    page.wait_for_selector("video")
    assert "rejected: <b>too</b> dark" in page.inner_text("p.review")  # as text, not markup
    playing = page.evaluate(
        """() => new Promise(done => {
            const v = document.querySelector('video');
            v.muted = true;
            v.addEventListener('loadeddata', () => done([v.videoWidth, v.videoHeight]));
            v.load();
        })"""
    )
    assert playing == [1080, 1920]
    assert requested and all(url.startswith(web.base + "/") for url in requested)
