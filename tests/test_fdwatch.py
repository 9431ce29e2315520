"""The runner's one epoll set for its children's descriptors (`engine/fdwatch.py`)."""

from __future__ import annotations

import asyncio
import os

import anyio
import pytest

from batchtui.engine.fdwatch import fd_watch


def test_a_readable_descriptor_calls_back_until_removed_and_close_ends_the_watch() -> None:
    async def main() -> list[bytes]:
        read, write = os.pipe()
        os.set_blocking(read, False)
        got: list[bytes] = []
        woke = asyncio.Event()

        def readable() -> None:
            got.append(os.read(read, 100))
            woke.set()

        try:
            with fd_watch() as watch:
                assert watch is not None
                watch.add(read, readable)
                os.write(write, b"one")
                with anyio.fail_after(5):
                    await woke.wait()
                woke.clear()
                watch.remove(read)
                os.write(write, b"two")  # not watched any more: stays in the pipe
                for _ in range(20):
                    await asyncio.sleep(0)
                assert not woke.is_set()
                watch.remove(read)  # twice is harmless
            with pytest.raises(ValueError):  # closed with its block
                watch.add(read, readable)
            return [*got, os.read(read, 100)]
        finally:
            os.close(read)
            os.close(write)

    assert anyio.run(main) == [b"one", b"two"]


def test_a_run_s_children_go_through_one_watch(tmp_path) -> None:
    """Many short children at once through the watch: every exit and every line is seen."""
    from batchtui.engine.itemlog import ItemLog
    from batchtui.engine.local_spawn import run_logged

    async def main() -> list[list[str]]:
        seen: list[list[str]] = [[] for _ in range(20)]
        with fd_watch() as watch:
            async with anyio.create_task_group() as tg:
                for n in range(20):

                    async def one(n: int = n) -> None:
                        log = ItemLog(tmp_path / f"{n}.log")
                        await run_logged(
                            ["sh", "-c", f"echo out{n}; echo err{n} >&2"],
                            log,
                            on_line=lambda stream, line, n=n: seen[n].append(f"{stream}:{line}"),
                            watch=watch,
                        )
                        log.close()

                    tg.start_soon(one)
        return seen

    seen = anyio.run(main)
    assert [sorted(lines) for lines in seen] == [
        sorted([f"stdout:out{n}", f"stderr:err{n}"]) for n in range(20)
    ]
