"""Reading a pairs table (CSV, UTF-8, a header row): the checks both tables share.

Every problem is one `PairsError` line naming the file and the line: not a file, binary, not
UTF-8, a CSV error, a wrong header, a wrong number of columns, a field too long to be a word,
a word holding a hidden character (control, bidi, zero-width) or whitespace at an edge, two
words that are the same, or a pair listed twice (compared case-insensitively).

Records are read as the csv module reads them: a quoted field may hold any character, a Unicode
line or paragraph separator, NEL, form feed or vertical tab included, and a message names the
first physical line of its record (lines end at \n, \r or \r\n only).
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Collection, Iterator, Sequence
from pathlib import Path

from duality_bench.display import describe, first_hidden
from duality_bench.errors import DualityBenchError

MAX_FIELD = 1000  # characters: longer than any word, category or note


class PairsError(DualityBenchError, ValueError):
    """A pairs table that cannot be read; the message names the file and line."""


def read_rows(
    path: str | Path, columns: Sequence[str], what: str, words: Collection[str] = ()
) -> Iterator[tuple[str, list[str]]]:
    """(`file:line`, cells) of each non-blank row after a header that names `columns`; the cells of
    the columns in `words` are checked by `check_word`, the others stripped."""
    for where, _, row in _rows(path, what, lambda h: tuple(h) == tuple(columns), ",".join(columns), words):
        yield where, row


def read_records(
    path: str | Path, columns: Sequence[str], required: Sequence[str], what: str, words: Collection[str] = ()
) -> Iterator[tuple[str, dict[str, str]]]:
    """(`file:line`, column -> cell) of each row; the header holds `required` and any of `columns`."""

    def fits(header: tuple[str, ...]) -> bool:
        return set(required) <= set(header) <= set(columns) and len(set(header)) == len(header)

    expected = f"{','.join(required)} and any of {','.join(c for c in columns if c not in required)}"
    for where, header, row in _rows(path, what, fits, expected, words):
        yield where, dict(zip(header, row, strict=True))


def _rows(
    path: str | Path, what: str, fits, expected: str, words: Collection[str]
) -> Iterator[tuple[str, tuple[str, ...], list[str]]]:
    path = Path(path)
    reader = csv.reader(io.StringIO(read_text(path, what), newline=""))
    start = 1  # the first physical line of the record being read
    try:
        first = next(reader, None)
        header = tuple(h.strip() for h in first or ())
        if not first or not fits(header):
            raise PairsError(f"{path}:1: header must be {expected}, found {_short(first)}")
        start = reader.line_num + 1
        for row in reader:
            where, start = f"{path}:{start}", reader.line_num + 1
            if not row or all(not c.strip() for c in row):
                continue
            if len(row) != len(header):
                raise PairsError(f"{where}: expected {len(header)} columns ({','.join(header)}), found {len(row)}")
            long = next((c for c in row if len(c) > MAX_FIELD), None)
            if long is not None:
                raise PairsError(f"{where}: a field of {len(long)} characters; a cell holds a word or a short note")
            yield (
                where,
                header,
                [check_word(where, h, c) if h in words else c.strip() for h, c in zip(header, row, strict=True)],
            )
    except csv.Error as e:
        raise PairsError(f"{path}:{start}: not a readable CSV row ({e})") from None


def check_word(where: str, column: str, text: str) -> str:
    """A word (or `;`-list of words) as written, NFC-normalised: no hidden character (control, bidi,
    zero-width), no whitespace at either edge, so what is shown and scored is what was meant."""
    hidden = first_hidden(text)
    if hidden is None and not text.strip():
        return ""  # a blank cell is an empty one: the word is missing, not padded
    if hidden is not None:
        raise PairsError(
            f"{where}: {text!r} (column {column}) holds {describe(hidden)}; "
            "a word holds no control, bidi or zero-width character, remove it"
        )
    if text != text.strip():
        side, char = ("start", text[0]) if text[0].isspace() else ("end", text[-1])
        raise PairsError(f"{where}: {text!r} (column {column}) has {describe(char)} at its {side}; remove it")
    return unicodedata.normalize("NFC", text)


def check_words(where: str, a: str, b: str) -> frozenset[str]:
    """Two different, non-empty words; returns the pair's case-insensitive key for duplicates."""
    if not a or not b:
        raise PairsError(f"{where}: both words are required, found a={a!r} b={b!r}")
    if a.lower() == b.lower():
        raise PairsError(f"{where}: a pair needs two different words, found {a!r} twice")
    return frozenset((a.lower(), b.lower()))


def other_duals(where: str, word: str, dual: str, cell: str) -> tuple[str, ...]:
    """The `;`-separated other duals of `word`: neither the word itself nor its dual in this pair."""
    others = tuple(w.strip() for w in cell.split(";") if w.strip())
    for other in others:
        if other.lower() in (word.lower(), dual.lower()):
            what = "itself" if other.lower() == word.lower() else f"{dual!r}, its dual in this pair,"
            raise PairsError(f"{where}: {word!r} lists {what} among its other duals; list only other words")
    return others


def read_text(path: Path, what: str) -> str:
    """The file as text: not binary, UTF-8 (a byte-order mark is dropped)."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise PairsError(f"{path}: cannot read the {what} ({e.strerror})") from None
    if b"\0" in raw:
        raise PairsError(f"{path}: a binary file, not the {what} (a UTF-8 CSV file)")
    try:
        return raw.decode("utf-8-sig")  # a byte-order mark, as spreadsheet programs write, is fine
    except UnicodeDecodeError as e:
        raise PairsError(f"{path}: not UTF-8 text (byte {e.start}); save the {what} as UTF-8") from None


def _short(header: list[str] | None) -> str:
    text = repr(header)
    return text if len(text) <= 120 else text[:117] + "..."
