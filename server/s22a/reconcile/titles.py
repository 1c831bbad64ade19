"""What a title says: its telling words, for comparing the titles registers give one agreement
and for finding likely duplicates."""

from __future__ import annotations

import re

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
