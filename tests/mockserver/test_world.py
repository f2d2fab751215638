"""The world's id generator: the same ids `uuid.UUID(int=…, version=4)` gives, from a seeded sequence."""

from __future__ import annotations

import random
import uuid

from mockserver.world import uuid4_string, uuid4_strings


def test_uuid4_strings_are_what_the_uuid_module_makes_of_the_same_bits():
    rng = random.Random(7)
    for bits in [0, 2**128 - 1, *(rng.getrandbits(128) for _ in range(2000))]:
        assert uuid4_string(bits) == str(uuid.UUID(int=bits, version=4))


def test_a_batch_of_ids_formats_each_128_bit_chunk_as_the_uuid_module_does():
    rng = random.Random(11)
    for count in (1, 2, 7, 256):
        for bits in (0, 2 ** (128 * count) - 1, rng.getrandbits(128 * count)):
            chunks = [(bits >> (128 * i)) & (2**128 - 1) for i in range(count)]
            # The lowest chunk last: `pop()` hands the batch out lowest first.
            assert uuid4_strings(bits, count) == [str(uuid.UUID(int=c, version=4)) for c in reversed(chunks)]


def test_batched_ids_are_the_sequence_of_one_draw_per_id():
    from mockserver.world import ID_BATCH, World

    world = World([], seed=3)
    rng = random.Random(world.id_position()[0])
    one_by_one = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(3 * ID_BATCH + 5)]
    assert [world.new_id() for _ in range(len(one_by_one))] == one_by_one


def test_ids_resume_where_the_position_left_them_mid_batch():
    from mockserver.world import World

    world = World([], seed=3)
    for _ in range(70):
        world.new_id()
    seed_text, drawn = world.id_position()
    expected = [world.new_id() for _ in range(100)]
    resumed = World([], seed=3)
    resumed.resume_ids(seed_text, drawn)
    assert [resumed.new_id() for _ in range(100)] == expected
