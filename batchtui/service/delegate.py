"""`delegate`: a use case of the facade that is one of its parts' methods, stated once.

`start_detached = delegate(lambda s: s._runs.start_detached)` in `BatchService` makes
`service.start_detached` the part's bound method itself: its signature and docstring are the
part's (`help(service.start_detached)` shows them), and mypy checks every call's arguments and
return type against that method, because the descriptor carries its `ParamSpec` and return
type. Adding a use case is one edit in its part, plus this one line. The part is made (and
its module imported) on the first call that needs it, as before, so the facade stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Generic, ParamSpec, Self, TypeVar, overload

if TYPE_CHECKING:
    from .facade import BatchService

P = ParamSpec("P")
R = TypeVar("R")


class delegate(Generic[P, R]):
    """A `BatchService` attribute whose value is `method(service)`: a part's bound method."""

    __slots__ = ("_method", "_name")

    def __init__(self, method: Callable[[BatchService], Callable[P, R]]) -> None:
        self._method = method
        self._name = "?"

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    @overload
    def __get__(self, service: None, owner: type) -> Self: ...
    @overload
    def __get__(self, service: BatchService, owner: type) -> Callable[P, R]: ...
    def __get__(self, service: BatchService | None, owner: type) -> Self | Callable[P, R]:
        # Not cached on the instance: a test may replace the part's method, or the instance's
        # attribute (a non-data descriptor: an instance attribute of the same name wins).
        return self if service is None else self._method(service)

    def __repr__(self) -> str:
        # What `help(BatchService)` lists: where the use case lives (the names the lambda
        # reads, e.g. `_runs.start_detached`), and how to see its signature and docstring.
        code = getattr(self._method, "__code__", None)
        where = ".".join(code.co_names) if code is not None else "a part"
        return f"<use case: {where}; help(service.{self._name}) shows it>"
