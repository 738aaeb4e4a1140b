"""The one exception family the CLI turns into a one-line `error: ...` message."""


class DualityBenchError(Exception):
    """Bad input or a state the user can fix; the message says what is wrong and what is right."""
