"""What a title says: its telling words, for comparing the titles registers give one agreement
and for finding likely duplicates."""

from __future__ import annotations

import re
from collections import defaultdict

# Words that say what kind of thing a title names, not which: the form (collaboration, unit...),
# the region regional titles carry, and words in nearly every national title.
_STOP = frozenset(
    "a an and at by for from in of on or the to with pursuant relating relation north south east "
    "west nw em midland regional region national collaboration collaborative agreement section "
    "22a unit police policing".split()
)


_SYNONYMS = {"armed": "firearm"}  # "armed policing" is firearms policing


def telling_words(name: str) -> frozenset[str]:
    """A title's telling words: no case, punctuation, bracketed abbreviation, stop word, plural."""
    words = re.findall(r"[a-z0-9]+", re.sub(r"\([^)]*\)|['’-]", "", name.lower()))
    words = [w[:-1] if len(w) > 4 and w.endswith("s") and w[-2] != "s" else w for w in words]
    return frozenset(_SYNONYMS.get(w, w) for w in words) - _STOP


def sharing_words(telling: dict[str, set[str]], together: list[set[str]]) -> list[tuple[str, str]]:
    """The pairs (first < second) of agreements sharing one of their `telling` words, but for
    those in one of the groups `together` (which say they are two agreements).

    Each agreement's partners are found with set operations, without making the pairs that
    are apart: in a register whose name is a telling word, all its rows share it (5 million
    pairs, all apart, in 40 registers of 500).
    """
    index: dict[str, set[str]] = defaultdict(set)
    for agreement, words in telling.items():
        for word in words:
            index[word].add(agreement)
    groups: dict[str, list[int]] = defaultdict(list)  # agreement -> the groups it is in
    for number, members in enumerate(together):
        for agreement in members:
            groups[agreement].append(number)
    apart: dict[tuple[int, ...], set[str]] = {}  # the members of those groups, once each
    pairs: list[tuple[str, str]] = []
    for first, words in telling.items():
        near = set().union(*(index[w] for w in words))
        key = tuple(groups[first])
        if key not in apart:
            apart[key] = set().union(*(together[n] for n in key))
        pairs.extend((first, second) for second in near - apart[key] if second > first)
    return pairs
