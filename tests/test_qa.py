"""QA across the series: real videos made with the bundled ffmpeg (black, frozen, silent, one
6 LU too loud, a clean one) are each caught with their reason; `--retry-on qa` makes a failed
one again; a clean titlecard series passes; `qa ID` and the API report findings and the
series' spread. The parsers are also checked on ffmpeg's own words."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from batchtui.api.app import create_app
from batchtui.core.qa import (
    MediaStats,
    judge,
    parse_blackdetect,
    parse_ebur128,
    parse_first_frame,
    parse_freezedetect,
    parse_stream_info,
    parse_volumedetect,
    series_spread,
)
from batchtui.engine.qa_probe import QaError, measure_sync
from batchtui.generators.media import ffmpeg_exe
from batchtui.service import BatchService
from batchtui.store import Repository

SIZE = "320x240"


def make(path: Path, video: str, audio: str | None, seconds: float = 4.0) -> Path:
    """A short H.264 (+AAC) clip from lavfi sources."""
    source = f"{video}{':' if '=' in video else '='}s={SIZE}:r=30:d={seconds}"
    argv = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", source]
    if audio is not None:
        argv += ["-f", "lavfi", "-t", str(seconds), "-i", audio]
    argv += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    argv += ["-c:a", "aac", "-shortest"] if audio is not None else []
    subprocess.run([*argv, str(path)], check=True)
    return path


# A 440 Hz sine measures -21.8 LUFS here: +7.8 dB is the series' -14, +13.8 dB is 6 LU over.
CLEAN_TONE = "sine=frequency=440:sample_rate=48000,volume=7.8dB"
LOUD_TONE = "sine=frequency=440:sample_rate=48000,volume=13.8dB"
EVERY = ["black", "frozen", "silent", "clipped", "loudness", "first_frame"]


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("clips")
    return {
        "clean": make(folder / "clean.mp4", "testsrc2", CLEAN_TONE),
        "black": make(folder / "black.mp4", "color=c=black", CLEAN_TONE),
        "frozen": make(folder / "frozen.mp4", "smptebars", CLEAN_TONE),
        "silent": make(folder / "silent.mp4", "testsrc2", "anullsrc=r=48000:cl=stereo"),
        "loud": make(folder / "loud.mp4", "testsrc2", LOUD_TONE),
    }


@pytest.mark.slow
def test_each_bad_clip_is_caught_with_its_reason_and_a_clean_one_passes(clips):
    found = {name: judge(measure_sync(path, EVERY), EVERY) for name, path in clips.items()}
    assert found["clean"] == []
    checks = {name: {f.check for f in findings} for name, findings in found.items()}
    assert "black" in checks["black"] and "first_frame" in checks["black"]
    assert checks["frozen"] == {"frozen"}
    assert checks["silent"] == {"silent", "loudness"}
    assert checks["loud"] == {"loudness"}
    (black,) = [f.reason for f in found["black"] if f.check == "black"]
    assert black == "black from 0.0 s to 4.0 s"
    (frozen,) = [f.reason for f in found["frozen"]]
    assert re.fullmatch(r"frozen from 0\.[0-3] s to 4\.0 s", frozen)  # (x264's first frames)
    assert [f.reason for f in found["silent"] if f.check == "silent"] == [
        "silent: mean volume -91.0 dB"
    ]
    (loud,) = [f.reason for f in found["loud"]]
    assert "LU above the series' -14 (± 1)" in loud
    off = float(loud.split(" LU above")[0].rsplit(" ", 1)[1])
    assert 5.0 <= off <= 7.0  # about 6 LU too loud, as made


@pytest.mark.slow
def test_a_clip_that_is_not_a_video_cannot_be_measured(tmp_path):
    broken = tmp_path / "x.mp4"
    broken.write_bytes(b"nothing to decode")
    with pytest.raises(QaError, match="could not read"):
        measure_sync(broken, EVERY)


@pytest.mark.slow
def test_retry_on_qa_makes_a_failed_output_again(run_cli, make_script, out_dir, clips):
    """The first attempt of each item is black, the second clean: QA fails the first (kind
    qa), --retry-on qa runs it again, and the batch ends COMPLETE."""
    script = make_script(
        "takes.py",
        f"""\
        import shutil, sys
        attempt, out = int(sys.argv[1]), sys.argv[2]
        shutil.copyfile({str(clips["black"])!r} if attempt == 1 else {str(clips["clean"])!r}, out)
        """,
    )
    created = run_cli(
        "create", "QA", "--generator", "command", "--command", f"{script} {{attempt}} {{output}}",
        "--output", str(out_dir), "--validate", "nonempty", "--qa", "black,loudness",
        "--retries", "1", "--retry-on", "qa", "--backoff", "0", "--json",
    )  # fmt: skip
    assert created.code == 0, created.err
    batch_id = json.loads(created.out)["id"]
    run_cli("add", batch_id, "one", "two")
    run_cli("lock", batch_id)
    run_cli("start", batch_id)
    shown = json.loads(run_cli("show", batch_id, "--json").out)
    assert shown["status"] == "COMPLETE"
    for item in shown["items"]:
        assert item["attempts"] == 2
        first = item["history"][0]
        assert first["status"] == "FAILED" and first["error"].startswith("qa: black from 0.0 s")
    # Without qa in --retry-on, a QA failure is for good.
    other = run_cli(
        "create", "QA2", "--generator", "command", "--command", f"{script} 1 {{output}}",
        "--output", str(out_dir), "--validate", "nonempty", "--qa", "black",
        "--retries", "1", "--retry-on", "exit", "--json",
    )  # fmt: skip
    other_id = json.loads(other.out)["id"]
    run_cli("add", other_id, "one")
    run_cli("lock", other_id)
    run_cli("start", other_id)
    failed = json.loads(run_cli("show", other_id, "--json").out)["items"][0]
    assert failed["status"] == "FAILED" and failed["attempts"] == 1


@pytest.mark.slow
def test_a_clean_titlecard_series_passes_and_qa_reports_its_spread(run_cli, out_dir, db_path):
    created = run_cli(
        "create", "Cards", "--duration", "4", "--output", str(out_dir),
        "--qa", "black,frozen,first_frame", "--json",
    )  # fmt: skip
    batch_id = json.loads(created.out)["id"]
    run_cli("add", batch_id, "Honey never spoils", "Octopuses have three hearts")
    run_cli("lock", batch_id)
    started = run_cli("start", batch_id)
    assert started.code == 0, started.err + started.out
    assert json.loads(run_cli("show", batch_id, "--json").out)["status"] == "COMPLETE"

    report = run_cli("qa", batch_id, "--json")
    assert report.code == 0, report.err
    data = json.loads(report.out)
    assert data["checks"] == ["black", "frozen", "first_frame"]
    assert data["passed"] == 2 and data["failed"] == 0
    assert data["spread"]["fps"] == [30] and data["spread"]["sizes"] == ["1080x1920"]
    assert 3.9 <= data["spread"]["duration"]["min"] <= data["spread"]["duration"]["max"] <= 4.1
    said = run_cli("qa", batch_id)
    assert "2/2 passed" in said.out and "duration 4.0–4.0 s" in said.out
    loud = run_cli("qa", batch_id, "--checks", "silent")  # a card has no voice
    assert loud.code == 1 and "silent: mean volume -91.0 dB" in loud.out

    answer = TestClient(create_app(BatchService(Repository(db_path)))).get(
        f"/v1/batch/{batch_id}/qa"
    )
    assert answer.status_code == 200 and answer.json()["passed"] == 2


def test_qa_of_a_batch_with_no_video_says_so(run_cli, out_dir):
    """Text outputs: QA has nothing to measure, and says that rather than '0 outputs'."""
    created = run_cli(
        "create", "Notes", "--generator", "command", "--command", "touch {output}",
        "--ext", "txt", "--validate", "exists", "--output", str(out_dir), "--json",
    )  # fmt: skip
    batch_id = json.loads(created.out)["id"]
    run_cli("add", batch_id, "one", "two")
    run_cli("lock", batch_id)
    assert run_cli("start", batch_id).code == 0
    said = run_cli("qa", batch_id)
    assert said.code == 0
    assert (
        said.out.strip() == "'Notes': no video output to measure (2 outputs, none of them a video)"
    )


# ------------------------------------------------------------ ffmpeg's own words

BLACK = "[blackdetect @ 0x55] black_start:0 black_end:2.96667 black_duration:2.96667\n"
FREEZE = (
    "[freezedetect @ 0x5] lavfi.freezedetect.freeze_start: 1.2\n"
    "[freezedetect @ 0x5] lavfi.freezedetect.freeze_duration: 2.5\n"
    "[freezedetect @ 0x5] lavfi.freezedetect.freeze_end: 3.7\n"
    "[freezedetect @ 0x5] lavfi.freezedetect.freeze_start: 6\n"
)
EBUR = """[Parsed_ebur128_0 @ 0x7f] Summary:

  Integrated loudness:
    I:         -14.2 LUFS
    Threshold: -24.4 LUFS

  True peak:
    Peak:       -1.3 dBFS
"""
VOLUME = (
    "[Parsed_volumedetect_1 @ 0x7] mean_volume: -20.1 dB\n"
    "[Parsed_volumedetect_1 @ 0x7] max_volume: -3.0 dB\n"
)
STREAMS = (
    "Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'x.mp4':\n"
    "  Duration: 00:00:05.03, start: 0.000000, bitrate: 120 kb/s\n"
    "  Stream #0:0[0x1](und): Video: h264 (High) (avc1 / 0x31637661), yuv420p(progressive), "
    "1080x1920, 88 kb/s, 29.97 fps, 29.97 tbr\n"
    "  Stream #0:1[0x2](und): Audio: aac (LC) (mp4a / 0x6134706D), 48000 Hz, stereo, fltp\n"
)


def test_the_parsers_read_ffmpegs_words():
    assert parse_blackdetect(BLACK) == ((0.0, 2.96667),)
    assert parse_freezedetect(FREEZE, duration=8.0) == ((1.2, 3.7), (6.0, 8.0))  # to the end
    assert parse_ebur128(EBUR) == (-14.2, -1.3)
    assert parse_ebur128("  I: -inf LUFS") == (None, None)  # no summary: nothing
    assert parse_volumedetect(VOLUME) == (-20.1, -3.0)
    assert parse_first_frame("lavfi.signalstats.YMIN=16\nlavfi.signalstats.YMAX=235\n") == 219
    assert parse_first_frame("") is None
    info = parse_stream_info(STREAMS)
    assert info == {
        "has_audio": True, "duration": 5.03, "codec": "h264", "width": 1080, "height": 1920,
        "fps": 29.97,
    }  # fmt: skip


def test_only_the_chosen_checks_are_judged_and_unknown_ones_refused():
    stats = MediaStats(black_spans=((0.0, 3.0),), has_audio=False, first_frame_range=0.0)
    assert [f.check for f in judge(stats, ["frozen"])] == []
    assert [f.check for f in judge(stats, ["black", "first_frame"])] == ["black", "first_frame"]
    assert [f.reason for f in judge(stats, ["silent"])] == ["no audio track"]
    short = MediaStats(black_spans=((1.0, 1.3),))  # a fade through black: too short to count
    assert judge(short, ["black"]) == []
    with pytest.raises(ValueError, match="no QA check 'loud'"):
        judge(stats, ["loud"])


def test_the_series_spread_in_words_and_as_json():
    spread = series_spread(
        [
            MediaStats(
                duration=5.0, fps=30, codec="h264", width=1080, height=1920, integrated_lufs=-14.3
            ),
            MediaStats(
                duration=5.2, fps=30, codec="h264", width=1080, height=1920, integrated_lufs=-13.9
            ),
            MediaStats(duration=5.1, fps=25, codec="hevc", integrated_lufs=-70.0),  # silent
        ]
    )
    assert spread.words() == [
        "duration 5.0–5.2 s (median 5.1)",
        "fps 25, 30",
        "codec h264, hevc",
        "size 1080x1920",
        "loudness -14.3 to -13.9 LUFS (median -14.1)",
    ]
    assert spread.as_json()["loudness"] == pytest.approx(
        {"min": -14.3, "median": -14.1, "max": -13.9}
    )
    assert MediaStats.from_dict(
        json.loads(json.dumps(MediaStats(black_spans=((0, 1),)).to_dict()))
    ) == MediaStats(black_spans=((0, 1),))


@pytest.mark.slow
@pytest.mark.anyio
async def test_the_tui_panel_says_what_qa_found(db_path, clips):
    from batchtui.core.models import BatchStatus, ItemStatus
    from batchtui.tui.screens.qa_panel import QaPanel

    from .helpers import wait_until
    from .tui_support import batch, item, make_app, make_service, store

    done = batch(
        1, "Clips", BatchStatus.COMPLETE,
        [
            item(1, "clean", ItemStatus.SUCCEEDED, output_path=str(clips["clean"])),
            item(2, "black", ItemStatus.SUCCEEDED, output_path=str(clips["black"])),
        ],
        qa=["black", "loudness"],
    )  # fmt: skip
    store(db_path, done)
    app = make_app(make_service(db_path))
    async with app.run_test(size=(80, 24)) as pilot:
        app.open_progress(done.id)
        await pilot.pause()
        await pilot.press("Q")
        await pilot.pause()
        panel = app.screen
        assert isinstance(panel, QaPanel)
        await wait_until(lambda: bool(panel.lines), limit=30)
        said = [line.plain for line in panel.lines]
        assert said[0] == "checks: black, loudness"
        assert said[1].startswith("✔") and "clean" in said[1]
        assert said[2].startswith("✖") and "black from 0.0 s to 4.0 s" in said[2]
        assert said[-1] == "1/2 passed"
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "ProgressScreen"
