"""A trigram index for the guides' "partial match" filters: case-insensitive substring search over
one field of a table, answered without scanning every record.

The field's *text* is `text_key` of its value (Python's `str.lower()`, objects and arrays as their
JSON), the same form the column scan compares, and a query's needle is lowered the same way; a
record matches when the needle is a substring of its text. The index works on the field's
*distinct* texts, each numbered once (a *vid*):

- `codes` maps every slot (soft-deleted ones too) to the vid of its text; vid 0 is "unset";
- `grams` maps each trigram (3 consecutive characters of a text) to the ascending vids whose text
  holds it. Every substring of 3+ characters of a text has all its trigrams in the text, so the
  smallest posting of the needle's trigrams holds every match; each candidate is then checked
  with `needle in text`, which makes the answer exactly the scan's;
- `single`/`multi` map each vid to its *active* slots, ascending (one slot: `single[vid]`,
  several: `multi[vid]`), so a low-cardinality field (a status) costs one check per distinct value
  and the matches' count is the sum of their groups. Only the first `SHARED` distinct texts share
  a vid; later ones get one per record (see `SHARED`).

New records are indexed when the next search comes (`catch_up`), in one go: a create costs the
index nothing, a burst of creates is indexed once. Changes to records already indexed are applied
as they happen.

Needles shorter than 3 characters have no trigram: they are checked against the trigram keys
(whose postings then hold the matches) or, when that would touch most values anyway, against the
distinct texts themselves. Vids are never renumbered while the table lives; texts no slot holds
any more are dropped when they outnumber the slots (`compact`).
"""

from __future__ import annotations

import heapq
from array import array
from bisect import bisect_left
from collections.abc import Collection, Iterable, Iterator, Sequence
from itertools import chain, islice
from typing import Any, cast, overload

import orjson

UNSET = 0
"""The vid of an unset (None) value."""

SHARED = 65536
"""How many distinct texts get one vid for all their records. Past that, a new text gets a vid of its
own for each record holding it: answers stay exact, and a high-cardinality field (an id, a URL)
does not pay a dictionary entry per record for sharing that never happens."""

NARROW = 32
"""A search's candidates are narrowed by intersecting trigram postings while more than this many
are left; then each is checked against its text."""

DENSE = 8
"""A search matching more values than 1/DENSE of the slots collects its slots in one pass over all
of them rather than value by value."""


def text_key(value: Any) -> str | None:
    """How a value reads for a substring match: lowercased text (objects and arrays as their JSON);
    None for an unset value."""
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        return orjson.dumps(value).decode().lower()
    return str(value).lower()


def trigrams(text: str) -> set[str]:
    """The distinct 3-character substrings of `text`."""
    return {text[i:i + 3] for i in range(len(text) - 2)}


class Merged(Sequence[int]):
    """Ascending, disjoint runs of slots read as one ascending sequence without building it: the
    length is the runs' sum, and a window merges only up to its end (a list page is usually near
    the start)."""

    __slots__ = ("_len", "_runs")

    def __init__(self, runs: list[Sequence[int]]) -> None:
        self._runs = runs
        self._len = sum(len(r) for r in runs)

    def __len__(self) -> int:
        return self._len

    def __iter__(self) -> Iterator[int]:
        return heapq.merge(*self._runs)

    @overload
    def __getitem__(self, at: int) -> int: ...
    @overload
    def __getitem__(self, at: slice) -> list[int]: ...
    def __getitem__(self, at: int | slice) -> int | list[int]:
        if isinstance(at, slice):
            start, stop, step = at.indices(self._len)
            return list(islice(heapq.merge(*self._runs), start, stop, step))
        if at < 0:
            at += self._len
        if not 0 <= at < self._len:
            raise IndexError(at)
        return next(islice(heapq.merge(*self._runs), at, None))


class TextMatch:
    """The values a search matched, and through them the active slots holding them.

    Few values are kept as a set of vids (their slots come from their groups); when the values
    are a large part of the field's (a short or common needle on a high-cardinality field), as a
    byte per vid instead, and the slots come from one pass over `codes`: no slower than a scan."""

    __slots__ = ("_index", "_slots", "mark", "size", "vids")

    def __init__(self, index: TextIndex, vids: set[int] | None = None, mark: bytearray | None = None) -> None:
        self._index = index
        self.vids = vids
        self.mark = mark
        self._slots: Sequence[int] | None = None
        if mark is not None:
            self._slots = index.marked_slots(mark)
            self.size = len(self._slots)
        else:
            self.size = index.count(vids or ())

    def filter(self, slots: Iterable[int]) -> list[int]:
        """The slots among `slots` that matched, in their order (active or not: the caller picks)."""
        codes = self._index.codes
        if self.mark is not None:
            mark = self.mark
            return [slot for slot in slots if mark[codes[slot]]]
        vids = self.vids or set()
        return [slot for slot in slots if codes[slot] in vids]

    def slots(self) -> Sequence[int]:
        """The matched active slots, ascending (read-only; may be a lazily merged `Merged`)."""
        if self._slots is None:
            self._slots = self._index.slots(self.vids or ())
        return self._slots


class TextIndex:
    """Substring search over one field's text (see the module's docstring)."""

    __slots__ = ("codes", "field", "grams", "live", "multi", "short", "single", "strings", "vids")

    def __init__(self, field: str, live: bytearray) -> None:
        self.field = field
        self.live = live  # the table's: slot -> 1 while the record is active
        self._empty()

    def _empty(self) -> None:
        self.codes = array("I")  # slot -> vid
        self.strings: list[str | None] = [None]  # vid -> text
        self.vids: dict[str, int] = {}  # text -> vid
        self.grams: dict[str, array[int]] = {}  # trigram -> ascending vids
        self.short: list[int] = []  # vids of texts under 3 characters (they have no trigram)
        self.single = array("i", [-1])  # vid -> its one active slot; -1: none, or several (see multi)
        self.multi: dict[int, array[int]] = {}  # vid -> its active slots, ascending, when several

    # -- writes --------------------------------------------------------------------------------
    def catch_up(self, blobs: Sequence[bytes]) -> None:
        """Index the records stored since the last call (slots past `codes`), from their JSON."""
        codes, add, live, field = self.codes, self._add, self.live, self.field
        loads, vid_of = orjson.loads, self._vid
        for slot in range(len(codes), len(blobs)):
            vid = vid_of(text_key(loads(blobs[slot]).get(field)))
            codes.append(vid)
            if live[slot]:
                add(vid, slot)

    def change(self, slot: int, record: dict[str, Any], was_active: bool, active: bool) -> None:
        """Index a new version of the record in `slot` (nothing to do for a slot not caught up yet)."""
        if slot >= len(self.codes):
            return
        old = self.codes[slot]
        vid = self._vid(text_key(record.get(self.field)))
        if vid == old and was_active == active:
            return
        self.codes[slot] = vid
        if was_active:
            self._remove(old, slot)
        if active:
            self._add(vid, slot)
        if len(self.strings) > 2 * len(self.codes) + 1024:
            self.compact()

    def clear(self) -> None:
        """Forget every record."""
        self._empty()

    def load(self, texts: Iterable[str | None]) -> None:
        """Index the texts of slots 0, 1, … from scratch."""
        self.clear()
        codes, add, live = self.codes, self._add, self.live
        for slot, text in enumerate(texts):
            vid = self._vid(text)
            codes.append(vid)
            if live[slot]:
                add(vid, slot)

    def compact(self) -> None:
        """Renumber the texts still held, dropping the others (updates leave old texts behind)."""
        self.load([self.strings[vid] for vid in self.codes])

    def _vid(self, text: str | None) -> int:
        if text is None:
            return UNSET
        vid = self.vids.get(text)
        if vid is None:
            vid = len(self.strings)
            self.strings.append(text)
            if len(self.vids) < SHARED:
                self.vids[text] = vid
            self.single.append(-1)
            if len(text) < 3:
                self.short.append(vid)
            grams = self.grams
            for gram in trigrams(text):
                posting = grams.get(gram)
                if posting is None:
                    grams[gram] = array("I", (vid,))
                else:
                    posting.append(vid)
        return vid

    def _add(self, vid: int, slot: int) -> None:
        group = self.multi.get(vid)
        if group is not None:
            if group[-1] < slot:
                group.append(slot)
            else:
                group.insert(bisect_left(group, slot), slot)
            return
        first = self.single[vid]
        if first < 0:
            self.single[vid] = slot
        else:
            self.single[vid] = -1
            self.multi[vid] = array("I", (first, slot) if first < slot else (slot, first))

    def _remove(self, vid: int, slot: int) -> None:
        group = self.multi.get(vid)
        if group is None:
            if self.single[vid] == slot:
                self.single[vid] = -1
            return
        at = bisect_left(group, slot)
        if at < len(group) and group[at] == slot:
            del group[at]
        if len(group) == 1:
            self.single[vid] = group[0]
            del self.multi[vid]

    # -- reads ---------------------------------------------------------------------------------
    def text(self, slot: int) -> str | None:
        """The text of the record in `slot`."""
        return self.strings[self.codes[slot]]

    def search(self, needles: Iterable[str], wants_null: bool = False) -> TextMatch:
        """The values holding any of the (lowercased) needles, plus unset ones with `wants_null`."""
        found: list[Sequence[int]] = [(UNSET,)] if wants_null else []
        found += [self._matching(needle) for needle in needles]
        if sum(len(f) for f in found) * DENSE < len(self.codes):
            return TextMatch(self, vids=set(chain.from_iterable(found)))
        mark = bytearray(len(self.strings))
        for vids in found:
            for vid in vids:
                mark[vid] = 1
        return TextMatch(self, mark=mark)

    def _matching(self, needle: str) -> Sequence[int]:
        # Only vid 0 (unset) has no text, and it is never a candidate below (postings and `short` hold
        # vids of texts; the scan starts at 1).
        strings = cast("list[str]", self.strings)
        if len(needle) >= 3:
            postings = []
            for gram in trigrams(needle):
                posting = self.grams.get(gram)
                if posting is None:
                    return ()
                postings.append(posting)
            postings.sort(key=len)
            if len(needle) == 3:
                return postings[0]  # the trigram itself: every value in its posting holds it
            # Narrow with the other short postings first (integers in arrays: cheap, cache-friendly),
            # then check the few candidates left against their texts.
            candidates: Collection[int] = postings[0]
            for posting in postings[1:]:
                if len(candidates) <= NARROW:
                    break
                candidates = set(candidates).intersection(posting)
            return [vid for vid in candidates if needle in strings[vid]]
        # Under 3 characters: every text of 3+ characters holding the needle has a trigram holding it.
        keys = [posting for gram, posting in self.grams.items() if needle in gram]
        if sum(len(p) for p in keys) > len(strings):
            return [vid for vid in range(1, len(strings)) if needle in strings[vid]]
        found = set(chain.from_iterable(keys))
        found.update(vid for vid in self.short if needle in strings[vid])
        return list(found)

    def marked_slots(self, mark: bytearray) -> list[int]:
        """The active slots whose value is marked, ascending (one pass over every slot)."""
        live = self.live
        if 0 in live:
            return [slot for slot, vid in enumerate(self.codes) if mark[vid] and live[slot]]
        return [slot for slot, vid in enumerate(self.codes) if mark[vid]]

    def count(self, vids: Iterable[int]) -> int:
        """How many active records hold any of these values."""
        single, multi = self.single, self.multi
        total = 0
        for vid in vids:
            group = multi.get(vid)
            if group is not None:
                total += len(group)
            elif single[vid] >= 0:
                total += 1
        return total

    def slots(self, vids: Iterable[int]) -> Sequence[int]:
        """The active slots holding any of these values, ascending (read-only)."""
        single, multi = self.single, self.multi
        ones: list[int] = []
        groups: list[Sequence[int]] = []
        for vid in vids:
            group = multi.get(vid)
            if group is not None:
                groups.append(group)
            elif (slot := single[vid]) >= 0:
                ones.append(slot)
        ones.sort()
        if not groups:
            return ones
        if ones:
            groups.append(ones)
        return groups[0] if len(groups) == 1 else Merged(groups)

