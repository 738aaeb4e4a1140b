"""The `duality-bench` command: thin subcommands over each stage's entry call.

`parser` defines the subcommands; `commands` runs them, each importing its stage only when it
runs, so `--help` answers at once without torch. `main` is the one boundary for errors: a
problem with the input (the project's own errors, and files that cannot be read or written)
prints one `error: COMMAND: ...` line and exits 2; anything else is an internal fault, one line
and exit 1. A warning, the package's or a library's, is one `warning: COMMAND: ...` line through
the same boundary. `--debug` shows the traceback, and warnings in Python's own form, instead.
Every message goes through `display.visible`: a name from a file cannot recolour the terminal.
"""

from __future__ import annotations

import re
import sys
import warnings
from collections.abc import Sequence

from duality_bench.cli.parser import build_parser
from duality_bench.display import visible
from duality_bench.errors import DualityBenchError


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.argv = argv
    with warnings.catch_warnings():
        if not args.debug:
            warnings.showwarning = _one_line(args.command)
        return _run(args)


def _run(args) -> int:
    try:
        return args.func(args) or 0
    except KeyboardInterrupt:
        return 130
    except (DualityBenchError, OSError, UnicodeError) as e:
        if args.debug:
            raise
        print(f"error: {args.command}: {_message(e)}", file=sys.stderr)
        return 2
    except Exception as e:  # the safety net: a fault of ours, not of the input
        if args.debug:
            raise
        print(
            f"error: {args.command}: internal fault ({type(e).__name__}: {_message(e)}); "
            "rerun with --debug for the traceback",
            file=sys.stderr,
        )
        return 1


def _one_line(command: str):
    def show(message, category, filename, lineno, file=None, line=None) -> None:
        print(f"warning: {command}: {_message(message)}", file=sys.stderr)

    return show


def _message(e: BaseException | Warning | str) -> str:
    if isinstance(e, OSError) and e.strerror:
        where = f" {e.filename}" if e.filename else ""
        return visible(f"{e.strerror}:{where}")
    text = visible(re.sub(r"[ \t\r\n]+", " ", str(e)).strip())  # then any other hidden character escaped
    return text if len(text) <= 300 else text[:297] + "..."


def run() -> None:
    sys.exit(main())
