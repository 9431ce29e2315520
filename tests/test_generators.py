"""Generators: the command template (no shell, one argument per placeholder) and the real
titlecard MP4."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from batchtui.core.models import BatchConfig, BatchStatus, ItemStatus
from batchtui.generators import available, get_generator
from batchtui.generators.base import Job
from batchtui.generators.command import (
    parse_progress,
    render_argv,
    split_template,
    template_problems,
)
from batchtui.generators.media import probe_video
from batchtui.generators.titlecard import render_card

from .helpers import decode_frames

HOSTILE = [
    "x; touch PWNED",
    "$(touch PWNED)",
    "`touch PWNED`",
    "a | tee PWNED",
    "it's \"quoted\" and 'single'",
    "two\nlines",
    "  padded  ",
    "{output} {content} literally",
    "-rf --help",
    "[bold]x[/bold] \x1b[31mred\x1b[0m",
]


def test_split_once_and_substitute_inside_one_argument():
    argv = split_template("render --title={content} -o {output} 'a b'")
    assert argv == ["render", "--title={content}", "-o", "{output}", "a b"]
    rendered = render_argv(argv, {"content": "x; rm -rf / $(id)", "output": "/o/f.mp4"})
    assert rendered == ["render", "--title=x; rm -rf / $(id)", "-o", "/o/f.mp4", "a b"]


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("", "needs a command template"),
        ("echo 'unbalanced {output}", "unbalanced quotes"),
        ("echo {1nope} {output}", "unknown placeholder {1nope}"),
        ("echo {content}", "must write to {output}"),
        ("no-such-program-xyz {output}", "'no-such-program-xyz' not found on PATH"),
        ("./missing.sh {output}", "executable not found"),
        ("{content} {output}", "cannot be a placeholder"),
        ("echo {output", "bad placeholder"),
    ],
)
def test_template_problems(template, problem, tmp_path):
    problems = template_problems(template, str(tmp_path))
    assert any(problem in p for p in problems), problems


def test_template_with_a_non_executable_file(tmp_path):
    script = tmp_path / "render.sh"
    script.write_text("#!/bin/sh\n")
    problems = template_problems("./render.sh {output}", str(tmp_path))
    assert problems == [f"executable is not executable (chmod +x?): {script}"]


def test_good_template_has_no_problems(tmp_path):
    assert template_problems("python3 -c pass {content} {output} {index}", str(tmp_path)) == []


@pytest.mark.parametrize(
    ("line", "fraction"),
    [
        ("PROGRESS 0.42", 0.42),
        ("  PROGRESS 1", 1.0),
        ("frame 12 - 42%", 0.42),
        ("done", None),
        ("150%", None),
    ],
)
def test_parse_progress(line, fraction):
    assert parse_progress(line) == fraction


def test_known_generators():
    assert {"titlecard", "command"} <= set(available())
    with pytest.raises(Exception, match="unknown generator 'nope'"):
        get_generator("nope")


@pytest.mark.anyio
async def test_hostile_content_reaches_the_command_as_one_literal_argument(
    service, make_script, tmp_path
):
    script = make_script(
        "echo_args.py",
        """
        import json, sys
        out = sys.argv[-1]
        open(out, "w").write(json.dumps(sys.argv[1:-1]))
        """,
    )
    batch = service.create(
        "Hostile",
        generator="command",
        command=f"{script} {{content}} {{output}}",
        output_ext="json",
    )
    service.add_items(batch.id, HOSTILE)
    service.lock(batch.id)
    batch = await service.start(batch.id)
    assert batch.status is BatchStatus.COMPLETE
    for item, content in zip(batch.items, HOSTILE, strict=True):
        assert json.loads(Path(item.output_path).read_text()) == [content]
        assert Path(item.output_path).parent.parent == Path(batch.config.output_dir)
    assert not list(tmp_path.rglob("PWNED")), "no shell ever interpreted the content"


def _job(tmp_path: Path, content: str, **config) -> Job:
    cfg = BatchConfig(output_dir=str(tmp_path / "out"), **config)
    return Job(
        batch_id="b1",
        batch_name="Cards",
        item_id="i1",
        index=1,
        total=1,
        content=content,
        attempt=1,
        config=cfg,
        output=tmp_path / "o.mp4",
        final_output=tmp_path / "f.mp4",
        scratch=tmp_path,
        log_path=tmp_path / "log",
    )


@pytest.mark.parametrize(
    "content",
    ["short", "word " * 2000, "x" * 5000, "[bold]markup[/] \x1b[31m\x00ctl", "שלום 👋 مرحبا"],
)
def test_card_renders_any_text_at_the_platform_size(tmp_path, content):
    job = _job(tmp_path, content, platform="youtube")
    files = render_card(job, tmp_path, job.poster)
    for path in (files.background, files.headline, files.poster):
        with Image.open(path) as image:
            assert image.size == (1920, 1080)


@pytest.mark.anyio
@pytest.mark.slow
async def test_titlecard_makes_a_real_mp4(service, out_dir):
    """The built-in generator end to end: a decodable H.264 MP4 of the locked size and length."""
    batch = service.create("Real Render", platform="youtube", duration=1, fps=24)
    service.add_items(batch.id, ["Why is space dark?"])
    service.lock(batch.id)
    batch = await service.start(batch.id)
    item = batch.items[0]
    assert item.status is ItemStatus.SUCCEEDED, item.error
    output = Path(item.output_path)
    assert output.suffix == ".mp4" and output.is_relative_to(out_dir)
    info = await probe_video(output)
    assert (info.codec, info.width, info.height) == ("h264", 1920, 1080)
    assert info.duration == pytest.approx(1.0, abs=0.05)
    assert decode_frames(output) == 24


def test_third_party_generators_register_through_entry_points(monkeypatch):
    from importlib.metadata import EntryPoint

    import batchtui.generators as registry

    plugin = EntryPoint(
        name="plugin", value="tests.fakes:FakeGenerator", group="batchtui.generators"
    )
    broken = EntryPoint(name="broken", value="tests.nowhere:Nothing", group="batchtui.generators")
    monkeypatch.setattr(registry, "entry_points", lambda group: [plugin, broken])
    assert {"plugin", "broken"} <= set(registry.available())
    assert type(registry.get_generator("plugin")).__name__ == "FakeGenerator"
    with pytest.raises(Exception, match="generator 'broken' failed to load"):
        registry.get_generator("broken")
