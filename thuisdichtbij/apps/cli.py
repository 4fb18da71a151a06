"""The command line: ``thuisdichtbij scan ...``. Parses arguments, calls the library, prints.

Each subcommand lives in ``apps/commands/``: a function that declares its arguments and
one that runs it (one call of the public API) and returns the text to print.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from contextlib import contextmanager

from .. import __version__
from .._text import LANGS
from ..errors import ThuisdichtbijError
from ._args import missing_extra
from .commands import compare, fairshare, location, maps, national, zones
from .commands import scan as scan_commands

_QUIET = "only warnings and errors"
_LANG = "language of what is printed and written for people: nl (Dutch, default) or en"
_ORDER = ["scan", "fetch", "fairshare", "demand", "check", "serve", "zones", "compare-zones"] + [
    "map",
    "validate",
    "whatif",
    "site",
    "diff",
    "tiles",
    "scan-national",
]
#: Each subcommand: how its arguments are declared, what runs it, and whether it tells
#: what it is doing (INFO logging) unless --quiet.
_ALL = {
    **scan_commands.COMMANDS,
    **zones.COMMANDS,
    **fairshare.COMMANDS,
    **location.COMMANDS,
    **maps.COMMANDS,
    **compare.COMMANDS,
    **national.COMMANDS,
}
COMMANDS = {name: _ALL[name] for name in _ORDER}


class _Parser(argparse.ArgumentParser):
    """Bad arguments in one line, as any other bad input (the README's promise).

    The usage block argparse prints first is what ``--help`` is for; the subcommands'
    parsers are of this class too (argparse makes them of their parent's).
    """

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="thuisdichtbij",
        description="Thuis en dichtbij-scan: walking access to everyday amenities per dwelling.",
    )
    p.add_argument("--version", action="version", version=f"thuisdichtbij {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    for name, (add, _run, _chatty) in COMMANDS.items():
        add(sub)
        sub.choices[name].add_argument("-q", "--quiet", action="store_true", help=_QUIET)
        sub.choices[name].add_argument("--lang", choices=LANGS, default="nl", help=_LANG)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 fine, 2 bad input)."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # bad arguments (exit 2), --help and --version (0)
        return exc.code if isinstance(exc.code, int) else 2
    _add, run, chatty = COMMANDS[args.command]
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    level = logging.INFO if chatty and not args.quiet else logging.WARNING
    logging.getLogger("thuisdichtbij").setLevel(level)
    logging.getLogger("distributed").setLevel(logging.WARNING)
    logging.getLogger("urllib3").setLevel(logging.ERROR)  # fetch names the cause in one line
    try:
        with _terminate_as_interrupt():
            text = run(args)
    except ThuisdichtbijError as exc:
        print(f"thuisdichtbij: error: {exc}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as exc:
        extra = missing_extra(exc)
        if extra is None:
            raise
        print(f"thuisdichtbij: error: {extra}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("thuisdichtbij: interrupted; nothing was written", file=sys.stderr)
        return 130
    return _print(text)


@contextmanager
def _terminate_as_interrupt():
    """A ``kill`` (SIGTERM) ends the run as Ctrl-C does: temporary outputs are removed."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread (a caller's thread): leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _print(text: str) -> int:
    """Print the result; a reader that stopped early (``| head``) is no error."""
    try:
        print(text, flush=True)
    except BrokenPipeError:
        # Python would complain again when it flushes stdout at exit: point it at nothing
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    return 0


if __name__ == "__main__":
    sys.exit(main())
