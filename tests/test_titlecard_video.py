"""The built-in titlecard as a creator would post it: a video that moves (no black first
frame, frames that change), a silent AAC track, and a poster PNG beside it, in the manifest."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat

from batchtui.core.models import ItemStatus
from batchtui.generators.media import ffmpeg_exe

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


def frame_at(video: Path, seconds: float, target: Path) -> Image.Image:
    """The frame shown at `seconds`, as ffmpeg decodes it."""
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", "-ss", f"{seconds:g}", "-i", str(video),
         "-frames:v", "1", str(target)],
        check=True,
    )  # fmt: skip
    return Image.open(target).convert("RGB")


def streams(video: Path) -> str:
    """What ffmpeg says the file holds (its `Stream #…` lines)."""
    probe = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-i", str(video)], capture_output=True, text=True
    )
    return "\n".join(line for line in probe.stderr.splitlines() if "Stream #" in line)


def brightness(image: Image.Image) -> float:
    return ImageStat.Stat(image.convert("L")).mean[0]


def difference(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute difference of two frames, 0-255."""
    return ImageStat.Stat(ImageChops.difference(a, b).convert("L")).mean[0]


@pytest.fixture
async def rendered(service, out_dir):
    batch = service.create("Space Facts", duration=3, fps=30)
    service.add_items(batch.id, ["Why is space dark? 🌌", "What are black holes?"])
    service.lock(batch.id)
    batch = await service.start(batch.id)
    assert [i.status for i in batch.items] == [ItemStatus.SUCCEEDED] * 2, batch.items
    return batch


async def test_it_moves_from_a_first_frame_that_is_not_black(rendered, tmp_path):
    video = Path(rendered.items[0].output_path)
    first = frame_at(video, 0, tmp_path / "0.png")
    one = frame_at(video, 1, tmp_path / "1.png")
    end = frame_at(video, 2.95, tmp_path / "end.png")
    assert brightness(first) > 25  # the style's background and the header, from frame one
    assert difference(first, one) > 1.0  # the headline came in: a video, not a still
    assert difference(one, end) < 1.0  # then it holds


async def test_each_output_has_a_silent_aac_track_and_a_poster_in_the_manifest(rendered, tmp_path):
    for item in rendered.items:
        video = Path(item.output_path)
        found = streams(video)
        assert "Video: h264" in found and "Audio: aac" in found and "48000 Hz" in found
        poster = video.with_name(video.stem + ".poster.png")
        with Image.open(poster) as image:
            assert image.size == (1080, 1920)
            # The thumbnail is the finished card: what the video holds at its end.
            end = frame_at(video, 2.95, tmp_path / f"{item.position}.png")
            assert difference(image.convert("RGB"), end) < 4.0
    folder = Path(rendered.items[0].output_path).parent
    records = [json.loads(line) for line in (folder / "manifest.jsonl").read_text().splitlines()]
    outputs = [r for r in records if r.get("kind") == "output"]
    assert sorted(r["poster"] for r in outputs) == sorted(  # in the order they finished
        Path(i.output_path).stem + ".poster.png" for i in rendered.items
    )
    assert not list(folder.glob(".*"))  # no part files left behind
