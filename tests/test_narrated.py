"""The built-in narrated pipeline as a creator runs it on a fresh install: script, an offline
voice, a card with captions timed to the voice, and a mux to −14 LUFS — real runners, the
bundled ffmpeg, the eSpeak NG of the wheel."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat

from batchtui.core.models import BatchStatus, ItemStatus
from batchtui.core.stages_text import EXAMPLE, parse_stages
from batchtui.generators.media import ffmpeg_exe
from batchtui.service import BatchService
from batchtui.store import Repository

pytestmark = pytest.mark.slow

ITEMS = [
    "The ocean holds about 97 percent of the water on Earth.",
    "Octopuses have three hearts, and their blood is blue.",
    "Honey never spoils: jars 3,000 years old were still edible.",
]


def ffmpeg_says(video: Path, audio_filter: str) -> str:
    done = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(video), "-af", audio_filter,
         "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stderr


def frame_at(video: Path, seconds: float, target: Path) -> Image.Image:
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", "-ss", f"{seconds:g}", "-i", str(video),
         "-frames:v", "1", str(target)],
        check=True,
    )  # fmt: skip
    return Image.open(target).convert("RGB")


def white_share(image: Image.Image, top: float, bottom: float) -> float:
    band = image.convert("L").crop(
        (0, round(image.height * top), image.width, round(image.height * bottom))
    )
    return sum(band.histogram()[200:]) / (band.width * band.height)


def seconds_of(video: Path) -> float:
    found = re.search(r"Duration: (\d+):(\d+):([\d.]+)", ffmpeg_says(video, "anull"))
    assert found
    hours, minutes, secs = found.groups()
    return int(hours) * 3600 + int(minutes) * 60 + float(secs)


def test_the_narrated_example_makes_spoken_captioned_shorts(tmp_path: Path) -> None:
    db = tmp_path / "db.json"
    service = BatchService(Repository(db))
    batch = service.create("Ocean", stages=parse_stages(EXAMPLE), output_dir=str(tmp_path / "out"))
    service.add_items(batch.id, ITEMS)
    service.lock(batch.id)
    run = subprocess.run(
        [sys.executable, "-m", "batchtui", "--db", str(db), "start", batch.id],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    batch = service.get(batch.id)
    assert batch.status is BatchStatus.COMPLETE, (run.stdout, [i.error for i in batch.items])
    lengths = []
    for item in batch.items:
        video = Path(item.output_path)
        streams = ffmpeg_says(video, "anull")
        assert "Video: h264" in streams and "Audio: aac" in streams
        mean = float(
            re.search(r"mean_volume: (-?[\d.]+) dB", ffmpeg_says(video, "volumedetect"))[1]
        )
        assert mean > -35.0  # a voice, not silence (silence is -91 dB)
        loudness = float(re.findall(r"I:\s+(-?[\d.]+) LUFS", ffmpeg_says(video, "ebur128"))[-1])
        assert abs(loudness - -14.0) <= 1.0, loudness
        lengths.append(seconds_of(video))
        one = frame_at(video, 1, tmp_path / f"{item.position}-1.png")
        three = frame_at(video, 3, tmp_path / f"{item.position}-3.png")
        difference = ImageStat.Stat(ImageChops.difference(one, three).convert("L")).mean[0]
        assert difference > 1.0  # it moves
        # Captions: white words in the band under the headline (kept free for them).
        assert white_share(one, 0.56, 0.74) > 0.002, item.position
        # The card's poster is the item's (the mux makes none): beside it, in the manifest.
        with Image.open(video.with_name(video.stem + ".poster.png")) as poster:
            assert poster.size == (1080, 1920)
        assert (
            item.stages is not None
            and [r.status for r in item.stages.values()] == [ItemStatus.SUCCEEDED] * 4
        )
    manifest = Path(batch.items[0].output_path).parent / "manifest.jsonl"
    records = [json.loads(line) for line in manifest.read_text().splitlines()]
    outputs = [r for r in records if r["kind"] == "output"]
    assert sorted(r["poster"] for r in outputs) == sorted(
        Path(i.output_path).stem + ".poster.png" for i in batch.items
    )
    # Each video lasts as long as its own voice: three texts, three lengths.
    assert len({round(length, 1) for length in lengths}) == 3
    assert all(2.0 < length < 12.0 for length in lengths)


def test_a_voice_that_does_not_exist_fails_its_stage_in_one_line(tmp_path: Path) -> None:
    db = tmp_path / "db.json"
    service = BatchService(Repository(db))
    batch = service.create(
        "Bad voice", stages=parse_stages(EXAMPLE)[:2], output_dir=str(tmp_path / "out")
    )
    service.add_items(
        batch.id, ["Hello there.", "Bonjour."], variables=[None, {"voice": "zz-nope"}]
    )
    service.lock(batch.id)
    subprocess.run(
        [sys.executable, "-m", "batchtui", "--db", str(db), "start", batch.id],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    items = service.get(batch.id).items
    assert items[0].status is ItemStatus.SUCCEEDED
    assert items[1].status is ItemStatus.FAILED
    assert items[1].error is not None
    assert items[1].error.startswith("voice: no eSpeak voice named 'zz-nope'")
    assert "\n" not in items[1].error
