"""The app's declarations are frozen once it is built: what is served is what is registered."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import SupportsIndex, TypeVar

from ivrhooks.errors import ConfigurationError

__all__ = ["Frozen"]

T = TypeVar("T")


class _Declarations(list[T]):
    """A list of declarations (the app's services, its observers) that refuses changes once the
    app is built, as the decorators do."""

    def __init__(self, items: Iterable[T], frozen: Callable[[str], None]) -> None:
        super().__init__(items)
        self._frozen = frozen

    def append(self, item: T) -> None:
        self._frozen("add to this list")
        super().append(item)

    def extend(self, items: Iterable[T]) -> None:
        self._frozen("add to this list")
        super().extend(items)

    def insert(self, index: SupportsIndex, item: T) -> None:
        self._frozen("add to this list")
        super().insert(index, item)

    def __iadd__(self, items: Iterable[T]) -> _Declarations[T]:  # type: ignore[override,misc]
        self._frozen("add to this list")
        return super().__iadd__(items)


class Frozen:
    """Refuses any declaration once the app is built (:meth:`_check_open`)."""

    def __init__(self) -> None:
        self._built = False

    def _check_open(self, what: str) -> None:
        """Declarations are frozen once the app is built: a route added later would be served
        but never registered (or registered but never served)."""
        if self._built:
            raise ConfigurationError(
                f"cannot {what}: the app has started (built by build(), `ivrhooks run` or the "
                "server's lifespan); declare routes, fallbacks, resources, middleware, caches, "
                "services and observers before the app starts, at import time"
            )

    def _declared_list(self, items: Iterable[T]) -> list[T]:
        """A list of declarations (services, observers) frozen with the app."""
        return _Declarations(items, self._check_open)
