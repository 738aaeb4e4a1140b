"""The `duality-bench` command: thin subcommands over each stage's entry call.

`parser` defines the subcommands; `commands` runs them, each importing its stage only when it
runs, so `--help` answers at once without torch. `main` is the one boundary for errors: a
problem with the input (the project's own errors, and files that cannot be read or written)
prints one `error: COMMAND: ...` line and exits 2; anything else is an internal fault, one line
and exit 1. `--debug` shows the traceback instead.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from duality_bench.cli.parser import build_parser
from duality_bench.errors import DualityBenchError


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.argv = argv
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


def _message(e: BaseException) -> str:
    if isinstance(e, OSError) and e.strerror:
        where = f" {e.filename}" if e.filename else ""
        return f"{e.strerror}:{where}"
    text = " ".join(str(e).split())
    return text if len(text) <= 300 else text[:297] + "..."


def run() -> None:
    sys.exit(main())
