"""Showing text that came from outside (a results file, a pairs file, a model id) as what it is.

A control character (C0, C1, DEL), a bidi control, a zero-width or other format character and a
line or paragraph separator can make a name display as another name, recolour a terminal or
break a line. Wherever such text reaches the terminal, LEADERBOARD.md or index.html it goes
through `visible`, which writes each of those characters as its escape (`\\u202e`); every other
character, any script's letters included, is kept. Numbers reach tables through `number`, so a
missing or non-finite metric shows alike everywhere. A leaf module: every stage may use it.
"""

from __future__ import annotations

import math
import unicodedata
from typing import Any

# Control, format (bidi controls, zero-width characters, soft hyphen), separators, lone surrogates.
HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})


def is_hidden(char: str) -> bool:
    """A character that does not show as itself: it is invisible, moves text or acts on the terminal."""
    return unicodedata.category(char) in HIDDEN_CATEGORIES


def visible(text: str) -> str:
    """`text` with every hidden character written as its escape; unchanged when it has none."""
    if not any(is_hidden(c) for c in text):
        return text
    return "".join(_escape(c) if is_hidden(c) else c for c in text)


def first_hidden(text: str) -> str | None:
    """The first hidden character of `text`, if any."""
    return next((c for c in text if is_hidden(c)), None)


def describe(char: str) -> str:
    """A character by its code point and name: `U+0009 (control)`, `U+202E (RIGHT-TO-LEFT OVERRIDE)`."""
    return (
        f"U+{ord(char):04X} ({unicodedata.name(char, 'control' if unicodedata.category(char) == 'Cc' else 'unnamed')})"
    )


def number(value: Any, digits: int = 3) -> str:
    """A metric as shown in tables: fixed digits, or an en dash where there is none."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    return f"{value:.{digits}f}" if ok else "–"


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"
