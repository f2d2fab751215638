"""The world's id generator: the same ids `uuid.UUID(int=…, version=4)` gives, from a seeded sequence."""

from __future__ import annotations

import random
import uuid

from mockserver.world import uuid4_string


def test_uuid4_strings_are_what_the_uuid_module_makes_of_the_same_bits():
    rng = random.Random(7)
    for bits in [0, 2**128 - 1, *(rng.getrandbits(128) for _ in range(2000))]:
        assert uuid4_string(bits) == str(uuid.UUID(int=bits, version=4))
