"""The policy interface and the registry that looks policies up by name.

A policy is a small class: the engine binds it to a :class:`~lpsched.online.view.PolicyView`,
tells it when jobs arrive and complete, and at every decision time calls :meth:`Policy.decide`,
in which the policy evicts and starts jobs through the view. ``decide`` returns the next time it
wants to be asked again even if nothing else happens (a *wake-up*), or ``None``; the event-driven
engine relies on it to skip rounds, the per-round engine asks every round anyway. A policy must
therefore do nothing at a time when it did not ask to be woken and nothing happened.

New policies register with :func:`register_policy`; the engine never names a policy.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

from ..errors import OptionError
from .view import PolicyView

__all__ = ["Policy", "POLICIES", "register_policy", "make_policy"]

POLICIES: dict[str, type[Policy]] = {}


def register_policy(cls: type[Policy]) -> type[Policy]:
    """Class decorator: make ``cls`` available under ``cls.name``."""
    POLICIES[cls.name] = cls
    return cls


def make_policy(name: str, **options: Any) -> Policy:
    """Instantiate the policy registered as ``name`` with its options (validated)."""
    cls = POLICIES.get(name)
    if cls is None:
        raise OptionError(f"unknown policy '{name}' (known: {', '.join(POLICIES)})")
    return cls(**options)


class Policy(ABC):
    """Base class. ``OPTIONS`` maps each option to its allowed values (a tuple of strings) or to a
    type (``float``/``int``); ``DEFAULTS`` gives every option's default."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    clairvoyant: ClassVar[bool] = False
    OPTIONS: ClassVar[dict[str, Any]] = {}
    DEFAULTS: ClassVar[dict[str, Any]] = {}

    def __init__(self, **options: Any) -> None:
        opts = dict(self.DEFAULTS)
        for key, value in options.items():
            allowed = self.OPTIONS.get(key)
            if allowed is None:
                known = ", ".join(self.OPTIONS) or "none"
                raise OptionError(f"policy '{self.name}': unknown option '{key}' (known: {known})")
            if isinstance(allowed, tuple):
                if value not in allowed:
                    raise OptionError(f"policy '{self.name}': option {key}={value!r} "
                                      f"(allowed: {', '.join(map(str, allowed))})")
            else:
                try:
                    value = allowed(value)
                except (TypeError, ValueError):
                    raise OptionError(f"policy '{self.name}': option {key} must be "
                                      f"{allowed.__name__}, got {value!r}") from None
            opts[key] = value
        self.options: dict[str, Any] = opts

    @abstractmethod
    def bind(self, view: PolicyView, truth: list[int] | None, fast: bool) -> None:
        """Attach to a simulation. ``truth`` is given only to clairvoyant policies; ``fast`` asks for
        incremental structures and wake-ups (event engine) rather than the plain reference rules."""

    @abstractmethod
    def arrive(self, j: int) -> None:
        """Job ``j`` joined the waiting set."""

    @abstractmethod
    def complete(self, j: int) -> None:
        """Running job ``j`` completed (its length is now revealed by the view)."""

    @abstractmethod
    def decide(self, t: int) -> int | None:
        """Evict and start jobs at decision time ``t``; return a wake-up time ``> t`` or ``None``."""

    def stats(self) -> dict[str, Any]:
        """Policy-specific counters for the report."""
        return {}
