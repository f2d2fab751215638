"""Stripe-like ids (`cus_…`, `pi_…`, `evt_…`) from a seeded generator, so runs are reproducible."""

from __future__ import annotations

import random
import string
from typing import Any

_ALPHABET = string.ascii_letters + string.digits
# Lengths of the random part, roughly as Stripe's test-mode ids look.
_LENGTHS = {"cus": 14, "cs_test": 58}
_DEFAULT_LENGTH = 24


class IdFactory:
    """Makes ids from one `random.Random(seed)`: the same seed and call order give the same ids."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self._random = random.Random(seed)

    def reset(self) -> None:
        """Start the sequence over from the seed."""
        self._random = random.Random(self.seed)

    def getstate(self) -> tuple[Any, ...]:
        """The generator's position (for the persistence layer)."""
        return self._random.getstate()

    def setstate(self, state: tuple[Any, ...]) -> None:
        """Continue from a position `getstate` returned."""
        self._random.setstate(state)

    def token(self, length: int = _DEFAULT_LENGTH) -> str:
        """A random run of letters and digits."""
        return "".join(self._random.choice(_ALPHABET) for _ in range(length))

    def new(self, prefix: str) -> str:
        """A fresh id: `new("pi")` → `pi_3Xk…`."""
        return f"{prefix}_{self.token(_LENGTHS.get(prefix, _DEFAULT_LENGTH))}"

    def secret(self, object_id: str) -> str:
        """A client secret for an intent (`pi_…_secret_…`)."""
        return f"{object_id}_secret_{self.token(25)}"
