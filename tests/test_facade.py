"""The facade states no use case itself: each is its part's method, made on first use."""

from __future__ import annotations

import inspect

import pytest

from batchtui.service import BatchService
from batchtui.service.announcing import Announcing
from batchtui.service.cache import CacheUses
from batchtui.service.deferred import Deferrals
from batchtui.service.delegate import delegate
from batchtui.service.editing import Editing
from batchtui.service.follow import Follow
from batchtui.service.host_queue import HostQueueReads
from batchtui.service.pausing import Pausing
from batchtui.service.quality import Quality
from batchtui.service.reads import Reads
from batchtui.service.reviewing import Reviewing
from batchtui.service.runs import Runs
from batchtui.service.templating import Templating

PARTS = {
    "_reads": Reads,
    "_editing": Editing,
    "_runs": Runs,
    "_templating": Templating,
    "_follow": Follow,
    "_deferrals": Deferrals,
    "_host_queue": HostQueueReads,
    "_pausing": Pausing,
    "_cache": CacheUses,
    "_announcing": Announcing,
    "_reviewing": Reviewing,
    "_quality": Quality,
}


def use_cases() -> list[str]:
    return sorted(
        name
        for name, value in vars(BatchService).items()
        if isinstance(value, delegate) and not name.startswith("_")
    )


def test_every_use_case_of_the_facade_is_documented(service: BatchService) -> None:
    public = [name for name in dir(BatchService) if not name.startswith("_")]
    properties = {name for name in public if isinstance(getattr(BatchService, name), property)}
    undocumented = [
        name
        for name in public
        if not inspect.getdoc(getattr(BatchService if name in properties else service, name))
    ]
    assert undocumented == []
    assert len(use_cases()) > 40  # the delegations are found (not an empty check)


@pytest.mark.parametrize("name", use_cases())
def test_a_delegated_use_case_is_its_parts_method_itself(service: BatchService, name: str) -> None:
    method = getattr(service, name)
    part = method.__self__
    assert part is getattr(service, next(a for a, cls in PARTS.items() if isinstance(part, cls)))
    assert method.__doc__ == getattr(type(part), method.__name__).__doc__
    assert inspect.signature(method) == inspect.signature(getattr(part, method.__name__))


def test_parts_are_made_on_first_use_only(service: BatchService) -> None:
    service.summaries()
    service.is_running_here("nothing")
    service.cancel_all_here()
    assert "_reads" in vars(service)
    assert not {"_editing", "_runs", "_templating", "_follow"} & set(vars(service))
    service.same_name("x")
    assert "_editing" in vars(service) and "_runs" not in vars(service)


def test_an_instance_attribute_replaces_a_use_case(service: BatchService) -> None:
    # What a test spy does: the delegation is a non-data descriptor, so the instance wins.
    service.get = lambda ref: ref  # type: ignore[method-assign,assignment,return-value]
    assert service.get("x") == "x"
    assert repr(vars(BatchService)["get"]) == "<use case: _reads.get; help(service.get) shows it>"
