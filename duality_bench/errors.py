"""The one exception family the CLI turns into a one-line `error: ...` message."""

from duality_bench.display import visible


class DualityBenchError(Exception):
    """Bad input or a state the user can fix; the message says what is wrong and what is right.

    The message keeps no hidden character (a line break, a terminal escape, a bidi control from a
    file's key or value): each is written as its escape (`display.visible`), so it stays one line."""

    def __init__(self, *args: object) -> None:
        super().__init__(*(visible(a) if isinstance(a, str) else a for a in args))
