"""RPM versions ([epoch:]version[-release]) ordered by rpmvercmp, including '~' (pre) and '^' (post) rules."""

from __future__ import annotations

import re

from vulnhound.matching.versions._common import check_text
from vulnhound.matching.versions.interface import Version

# One token per rpmvercmp step; everything else (separators, non-ASCII) is skipped as rpm skips it.
_TOKEN = re.compile(r"[0-9]+|[A-Za-z]+|~|\^")
# Token ranks in rpmvercmp order: '~' < end of string < '^' < letters < digits.
_TILDE, _END, _CARET, _ALPHA, _NUM = range(5)
_Tok = tuple[int, int | str]


def segment_key(s: str) -> tuple[int, tuple[_Tok, ...]]:
    """The rpmvercmp key of one of epoch/version/release; an empty field sorts before any non-empty one."""
    if not s:
        return (0, ())
    toks: list[_Tok] = []
    for t in _TOKEN.findall(s):
        if t == "~":
            toks.append((_TILDE, 0))
        elif t == "^":
            toks.append((_CARET, 0))
        elif t[0].isdigit():
            toks.append((_NUM, int(t)))
        else:
            toks.append((_ALPHA, t))
    toks.append((_END, 0))
    return (1, tuple(toks))


class RpmVersion(Version):
    """An RPM EVR; a missing epoch is 0, a colon after a non-numeric prefix is part of the version."""

    __slots__ = ()
    scheme = "rpm"

    def _parse(self, raw: str) -> tuple[tuple[int, tuple[_Tok, ...]], ...]:
        s = check_text(self.scheme, raw)
        epoch, colon, vr = s.partition(":")
        if not colon or not epoch.isascii() or not epoch.isdigit():
            epoch, vr = "0", s
        version, dash, release = vr.partition("-")
        # "1-" has an empty but present release, which sorts after no release at all.
        return (segment_key(epoch), segment_key(version), segment_key(dash + release) if dash else (0, ()))
