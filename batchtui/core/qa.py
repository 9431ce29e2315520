"""QA of a series: each output checked for what a person would reject, with ffmpeg's own
filters, and the series' spread (duration, fps, codec, loudness) across its items.

Checks are chosen in the config (`qa = ["black", "frozen", "loudness"]`), so outputs that are
not videos are never judged. What ffmpeg printed is parsed into `MediaStats` here; `judge` says
what is wrong, each in one line, and a failed check makes the attempt fail with the kind `qa`
(which `--retry-on qa` names). No I/O here: `engine/qa_probe.py` runs ffmpeg.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Collection, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

QA_WORDS: dict[str, str] = {
    "black": "no black stretch of 0.5 s or more (blackdetect)",
    "frozen": "no frozen stretch of 2 s or more (freezedetect)",
    "silent": "an audio track that is not silent (mean volume above -50 dB)",
    "clipped": "audio that does not clip (true peak below -0.1 dBTP)",
    "loudness": "integrated loudness within the tolerance of the target (ebur128)",
    "first_frame": "a first frame with something on it (platforms pick thumbnails early)",
}
QA_CHECKS: tuple[str, ...] = tuple(QA_WORDS)
PICTURE_CHECKS: tuple[str, ...] = ("black", "frozen", "first_frame")
"""What `qa ID` checks when the batch chose no checks: what is wrong in any video (a video
with no voice is not wrong for being silent)."""

BLACK_SECONDS = 0.5
"""The shortest black stretch that fails `black` (a fade through black is shorter)."""
BLACK_PIXEL = 0.10
"""How dark a pixel must be to count as black (blackdetect's pix_th)."""
FROZEN_SECONDS = 2.0
"""The shortest frozen stretch that fails `frozen`: a held card or a still shot longer than
this is a render that stopped moving."""
FROZEN_NOISE = 0.0002
"""freezedetect's noise tolerance (about -74 dB). Its default, 0.001, calls a 60 s titlecard's
slow drift frozen; a still encoded by x264 reads frozen up to 0.00015: measured both ways."""
SILENT_DB = -50.0
"""A mean volume below this is silence (digital silence is -91 dB)."""
CLIP_DBTP = -0.1
"""A true peak above this clips on playback."""
BLANK_RANGE = 8
"""A first frame whose luma varies less than this (of 255) is one flat colour: blank."""
DEFAULT_TARGET = -14.0
"""The loudness most platforms normalise to (LUFS)."""
DEFAULT_TOLERANCE = 1.0


@dataclass(frozen=True)
class MediaStats:
    """What ffmpeg measured of one output."""

    duration: float | None = None
    fps: float | None = None
    codec: str | None = None
    width: int | None = None
    height: int | None = None
    has_audio: bool = False
    integrated_lufs: float | None = None
    true_peak_db: float | None = None
    mean_volume_db: float | None = None
    max_volume_db: float | None = None
    black_spans: tuple[tuple[float, float], ...] = ()
    frozen_spans: tuple[tuple[float, float], ...] = ()
    first_frame_range: float | None = None
    """Luma max minus min of frame 0 (0-255), None: not measured."""

    def to_dict(self) -> dict[str, Any]:
        """As JSON (spans as lists)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MediaStats:
        """From `to_dict`'s JSON (unknown keys ignored)."""
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        for spans in ("black_spans", "frozen_spans"):
            if spans in known:
                known[spans] = tuple(tuple(span) for span in known[spans])
        return cls(**known)


@dataclass(frozen=True)
class QaFinding:
    """A check an output failed, and why in one line."""

    check: str
    reason: str


# ------------------------------------------------------------------ parsing

_NUMBER = r"(-?(?:\d+(?:\.\d*)?|\.\d+)|-?inf|nan)"
_DURATION = re.compile(r"Duration:\s*(\d+):(\d+):(\d+(?:\.\d+)?)")
_VIDEO = re.compile(r"Stream #\S+.*?: Video: (\w+).*?, (\d{2,5})x(\d{2,5})")
_FPS = re.compile(r"Stream #\S+.*?: Video: .*?, (\d+(?:\.\d+)?) fps")
_AUDIO = re.compile(r"Stream #\S+.*?: Audio: ")
_BLACK = re.compile(rf"black_start:\s*{_NUMBER}\s+black_end:\s*{_NUMBER}")
_FREEZE_START = re.compile(rf"freeze_start:\s*{_NUMBER}")
_FREEZE_END = re.compile(rf"freeze_end:\s*{_NUMBER}")
_SUMMARY_I = re.compile(rf"Summary:.*?I:\s*{_NUMBER} LUFS", re.S)
_SUMMARY_PEAK = re.compile(rf"Summary:.*?True peak:\s*Peak:\s*{_NUMBER} dBFS", re.S)
_MEAN = re.compile(rf"mean_volume:\s*{_NUMBER} dB")
_MAX = re.compile(rf"max_volume:\s*{_NUMBER} dB")
_YMIN = re.compile(r"lavfi\.signalstats\.YMIN=(\d+(?:\.\d+)?)")
_YMAX = re.compile(r"lavfi\.signalstats\.YMAX=(\d+(?:\.\d+)?)")


def _float(text: str) -> float | None:
    """A measured number; None for ffmpeg's -inf and nan (silence: nothing to measure), which
    JSON cannot carry either."""
    value = float(text)
    return value if math.isfinite(value) else None


def parse_stream_info(text: str) -> dict[str, Any]:
    """Codec, size, fps, duration and whether there is audio, from ffmpeg's input summary."""
    info: dict[str, Any] = {"has_audio": bool(_AUDIO.search(text))}
    if (found := _DURATION.search(text)) is not None:
        hours, minutes, secs = found.groups()
        info["duration"] = int(hours) * 3600 + int(minutes) * 60 + float(secs)
    if (video := _VIDEO.search(text)) is not None:
        info["codec"] = video.group(1)
        info["width"], info["height"] = int(video.group(2)), int(video.group(3))
    if (fps := _FPS.search(text)) is not None:
        info["fps"] = float(fps.group(1))
    return info


def parse_blackdetect(text: str) -> tuple[tuple[float, float], ...]:
    """The black stretches blackdetect reported, (start, end) in seconds."""
    return tuple((float(a), float(b)) for a, b in _BLACK.findall(text))


def parse_freezedetect(text: str, duration: float | None = None) -> tuple[tuple[float, float], ...]:
    """The frozen stretches freezedetect reported; one still frozen at the end has no end
    line: it ends with the video (`duration`)."""
    starts = [float(v) for v in _FREEZE_START.findall(text)]
    ends = [float(v) for v in _FREEZE_END.findall(text)]
    spans = []
    for index, start in enumerate(starts):
        end = ends[index] if index < len(ends) else (duration if duration is not None else start)
        spans.append((start, end))
    return tuple(spans)


def parse_ebur128(text: str) -> tuple[float | None, float | None]:
    """(integrated loudness in LUFS, true peak in dBFS) from ebur128's summary."""
    loud = _SUMMARY_I.search(text)
    peak = _SUMMARY_PEAK.search(text)
    return (
        _float(loud.group(1)) if loud else None,
        _float(peak.group(1)) if peak else None,
    )


def parse_volumedetect(text: str) -> tuple[float | None, float | None]:
    """(mean volume, max volume) in dB from volumedetect."""
    mean, top = _MEAN.search(text), _MAX.search(text)
    return (_float(mean.group(1)) if mean else None, _float(top.group(1)) if top else None)


def parse_first_frame(text: str) -> float | None:
    """Luma max minus min of the frame signalstats printed first."""
    low, high = _YMIN.search(text), _YMAX.search(text)
    if low is None or high is None:
        return None
    return float(high.group(1)) - float(low.group(1))


def parse_measurement(text: str, first_frame: str = "") -> MediaStats:
    """Everything one measuring pass printed (and the first frame's pass) as MediaStats."""
    info = parse_stream_info(text)
    loudness, peak = parse_ebur128(text)
    mean, top = parse_volumedetect(text)
    return MediaStats(
        **info,
        integrated_lufs=loudness,
        true_peak_db=peak,
        mean_volume_db=mean,
        max_volume_db=top,
        black_spans=parse_blackdetect(text),
        frozen_spans=parse_freezedetect(text, info.get("duration")),
        first_frame_range=parse_first_frame(first_frame),
    )


# ------------------------------------------------------------------ judging


def check_names(checks: Iterable[str]) -> list[str]:
    """The checks, each once, in the order given; ValueError naming an unknown one."""
    chosen: list[str] = []
    for name in checks:
        if name not in QA_WORDS:
            raise ValueError(f"no QA check {name!r} (checks: {', '.join(QA_CHECKS)})")
        if name not in chosen:
            chosen.append(name)
    return chosen


def _span(spans: Iterable[tuple[float, float]], shortest: float) -> tuple[float, float] | None:
    return next(((a, b) for a, b in spans if b - a >= shortest), None)


def judge(
    stats: MediaStats,
    checks: Collection[str],
    *,
    loudness_target: float = DEFAULT_TARGET,
    loudness_tolerance: float = DEFAULT_TOLERANCE,
) -> list[QaFinding]:
    """What is wrong with an output, by the chosen checks (in QA_CHECKS order)."""
    chosen = set(check_names(checks))
    found: list[QaFinding] = []
    if "black" in chosen and (span := _span(stats.black_spans, BLACK_SECONDS)) is not None:
        found.append(QaFinding("black", f"black from {span[0]:.1f} s to {span[1]:.1f} s"))
    if "frozen" in chosen and (span := _span(stats.frozen_spans, FROZEN_SECONDS)) is not None:
        found.append(QaFinding("frozen", f"frozen from {span[0]:.1f} s to {span[1]:.1f} s"))
    if "silent" in chosen:
        if not stats.has_audio:
            found.append(QaFinding("silent", "no audio track"))
        elif stats.mean_volume_db is None or stats.mean_volume_db < SILENT_DB:
            mean = "-inf" if stats.mean_volume_db is None else f"{stats.mean_volume_db:.1f}"
            found.append(QaFinding("silent", f"silent: mean volume {mean} dB"))
    if "clipped" in chosen and stats.true_peak_db is not None and stats.true_peak_db > CLIP_DBTP:
        found.append(QaFinding("clipped", f"clipped: true peak {stats.true_peak_db:+.1f} dBTP"))
    if "loudness" in chosen:
        loud = stats.integrated_lufs
        if not stats.has_audio or loud is None or loud <= -70.0:
            found.append(QaFinding("loudness", "no loudness to measure (silent or no audio)"))
        elif abs(loud - loudness_target) > loudness_tolerance:
            off = loud - loudness_target
            found.append(
                QaFinding(
                    "loudness",
                    f"loudness {loud:.1f} LUFS is {abs(off):.1f} LU "
                    f"{'above' if off > 0 else 'below'} the series' {loudness_target:g} "
                    f"(± {loudness_tolerance:g})",
                )
            )
    blank = stats.first_frame_range is not None and stats.first_frame_range < BLANK_RANGE
    if "first_frame" in chosen and blank:
        found.append(QaFinding("first_frame", "the first frame is blank (one flat colour)"))
    return found


def findings_line(findings: Iterable[QaFinding]) -> str:
    """Every finding in one line ('qa: black from 0.0 s to 3.0 s; silent: …')."""
    return "qa: " + "; ".join(finding.reason for finding in findings)


# ------------------------------------------------------------------ the series


@dataclass(frozen=True)
class SeriesSpread:
    """How a series' outputs differ from each other."""

    count: int = 0
    durations: tuple[float, ...] = ()
    fps: tuple[float, ...] = ()
    codecs: tuple[str, ...] = ()
    sizes: tuple[str, ...] = ()
    loudness: tuple[float, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def words(self) -> list[str]:
        """Short lines for a person ('duration 5.0-5.2 s (median 5.1)', 'fps 30', …)."""
        lines: list[str] = []
        if self.durations:
            low, high = min(self.durations), max(self.durations)
            median = statistics.median(self.durations)
            lines.append(f"duration {low:.1f}–{high:.1f} s (median {median:.1f})")
        if self.fps:
            lines.append("fps " + ", ".join(f"{v:g}" for v in sorted(set(self.fps))))
        if self.codecs:
            lines.append("codec " + ", ".join(sorted(set(self.codecs))))
        if self.sizes:
            lines.append("size " + ", ".join(sorted(set(self.sizes))))
        if self.loudness:
            low, high = min(self.loudness), max(self.loudness)
            median = statistics.median(self.loudness)
            lines.append(f"loudness {low:.1f} to {high:.1f} LUFS (median {median:.1f})")
        return lines

    def as_json(self) -> dict[str, Any]:
        """The spread as JSON: each measure's min, median and max, and the sets."""

        def span(values: tuple[float, ...]) -> dict[str, float] | None:
            if not values:
                return None
            return {
                "min": min(values),
                "median": statistics.median(values),
                "max": max(values),
            }

        return {
            "count": self.count,
            "duration": span(self.durations),
            "loudness": span(self.loudness),
            "fps": sorted(set(self.fps)),
            "codecs": sorted(set(self.codecs)),
            "sizes": sorted(set(self.sizes)),
        }


def series_spread(stats: Iterable[MediaStats]) -> SeriesSpread:
    """The spread of a series' measured outputs."""
    measured = list(stats)
    return SeriesSpread(
        count=len(measured),
        durations=tuple(s.duration for s in measured if s.duration is not None),
        fps=tuple(s.fps for s in measured if s.fps is not None),
        codecs=tuple(s.codec for s in measured if s.codec),
        sizes=tuple(f"{s.width}x{s.height}" for s in measured if s.width and s.height),
        loudness=tuple(
            s.integrated_lufs
            for s in measured
            if s.integrated_lufs is not None and s.integrated_lufs > -70.0
        ),
    )
