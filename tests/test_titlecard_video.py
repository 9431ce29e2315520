"""The built-in titlecard as a creator would post it: a video that moves for the whole clip
(the headline already on its first frame: platforms take thumbnails from the early frames),
a silent AAC track, and a poster PNG beside it, in the manifest."""

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


def ink(image: Image.Image) -> float:
    """The share of near-white pixels in the middle band of a frame (where the headline is:
    the night style draws it white on a dark gradient)."""
    band = image.convert("L").crop((0, image.height * 3 // 10, image.width, image.height * 6 // 10))
    histogram = band.histogram()
    return sum(histogram[200:]) / (band.width * band.height)


async def test_it_moves_for_the_whole_clip_with_the_headline_on_frame_zero(rendered, tmp_path):
    video = Path(rendered.items[0].output_path)
    first = frame_at(video, 0, tmp_path / "0.png")
    one = frame_at(video, 1, tmp_path / "1.png")
    end = frame_at(video, 2.95, tmp_path / "end.png")
    assert brightness(first) > 25  # the style's background and the header, from frame one
    assert ink(first) > 0.01  # the headline is there on frame 0, not faded in from nothing
    assert ink(first) > 0.5 * ink(end)
    assert difference(first, one) > 1.0  # a video, not a still
    assert difference(one, end) > 1.0  # still moving after the headline's entrance


async def test_each_output_has_a_silent_aac_track_and_a_poster_in_the_manifest(rendered, tmp_path):
    posters, settled = [], []
    for item in rendered.items:
        video = Path(item.output_path)
        found = streams(video)
        assert "Video: h264" in found and "Audio: aac" in found and "48000 Hz" in found
        poster = video.with_name(video.stem + ".poster.png")
        with Image.open(poster) as image:
            assert image.size == (1080, 1920)
            posters.append(image.convert("RGB"))
        # What the video shows once the headline is in place (then it drifts a little).
        settled.append(frame_at(video, 0.7, tmp_path / f"{item.position}.png"))
    # The thumbnail is the finished card: far closer to its own video than to the other's.
    for mine, other in ((0, 1), (1, 0)):
        own = difference(posters[mine], settled[mine])
        assert own < 0.5 * difference(posters[mine], settled[other]), own
        assert abs(ink(posters[mine]) - ink(settled[mine])) < 0.3 * ink(settled[mine])
    folder = Path(rendered.items[0].output_path).parent
    records = [json.loads(line) for line in (folder / "manifest.jsonl").read_text().splitlines()]
    outputs = [r for r in records if r.get("kind") == "output"]
    assert sorted(r["poster"] for r in outputs) == sorted(  # in the order they finished
        Path(i.output_path).stem + ".poster.png" for i in rendered.items
    )
    assert not list(folder.glob(".*"))  # no part files left behind
