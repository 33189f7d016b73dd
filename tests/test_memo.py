"""The per-snapshot memo: bounded LRU, exceptions not remembered, unhashable keys bypassed."""

from __future__ import annotations

import pytest

from emulator.memo import Memo


def test_builds_once_per_key_and_evicts_least_recent() -> None:
    memo = Memo(capacity=2)
    calls: list[str] = []

    def build(k: str) -> str:
        calls.append(k)
        return k.upper()

    assert memo.get("a", lambda: build("a")) == "A"
    assert memo.get("a", lambda: build("a")) == "A"
    memo.get("b", lambda: build("b"))
    memo.get("a", lambda: build("a"))  # a is now the most recent
    memo.get("c", lambda: build("c"))  # evicts b
    memo.get("b", lambda: build("b"))
    assert calls == ["a", "b", "c", "b"]
    assert len(memo) == 2


def test_exceptions_are_not_remembered() -> None:
    memo = Memo()
    with pytest.raises(ValueError):
        memo.get("k", lambda: (_ for _ in ()).throw(ValueError("boom")))
    assert memo.get("k", lambda: 1) == 1


def test_unhashable_keys_are_built_every_time() -> None:
    memo = Memo()
    assert memo.get(("x", {"a": 1}), lambda: 5) == 5  # type: ignore[arg-type]
    assert len(memo) == 0
