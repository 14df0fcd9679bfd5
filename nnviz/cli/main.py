"""Command line: `python -m nnviz <command> ...` for scripting, lecture preparation and checking.

Each command lives in a module of nnviz.cli with `add_arguments(parser)` and `run(args) -> int`
(and optionally EPILOG); only the module of the command being run is imported, so a missing or
broken one never stops the others. Errors are one line on stderr: exit status 2 for bad
arguments, 1 when the work itself fails (training diverged, a command not installed).
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys

from nnviz.cli.args import ArgumentError, OneLineParser

# name -> (module, one-line help). Modules are imported only when their command runs.
COMMANDS = {
    "train": ("nnviz.cli.train", "train a network on a toy set or the bundled digits, one line per epoch"),
    "bench": ("nnviz.cli.bench", "measure training speed (nnviz vs PyTorch vs a per-example loop)"),
    "attack": ("nnviz.cli.attack", "fool the digit model with adversarial examples"),
    "backprop": ("nnviz.cli.backprop", "one example through a tiny network: every z, a, delta and gradient"),
    "class": ("nnviz.cli.classroom", "a class challenge: create a class, submit a model, read the board"),
    "serve": ("nnviz.cli.serve", "serve a hall: several Streamlit workers behind HAProxy, sticky by cookie"),
}


# ----- dispatch -----------------------------------------------------------------------------
def _command_in(argv: list[str]) -> str | None:
    """The first word that is not an option: the command the user asked for."""
    for word in argv:
        if word == "--":
            return None
        if not word.startswith("-"):
            return word
    return None


def build_parser(command: str | None):
    """The top-level parser; only `command`'s module is imported to add its options.

    Returns (parser, module of command or None).
    """
    parser = OneLineParser(prog="python -m nnviz",
                           description="nnviz: a from-scratch NumPy backprop engine. "
                                       "Run 'python -m nnviz COMMAND --help' for a command's options.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    module = None
    for name, (module_name, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text, epilog=None,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        p.set_defaults(prog=p.prog)
        if name == command:
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as e:
                if e.name != module_name:  # the command exists but something it needs is missing
                    raise CommandUnavailable(f"python -m nnviz {name}: needs the module {e.name!r}, "
                                             f"which is not installed") from None
                raise CommandUnavailable(f"python -m nnviz {name}: this command is not available in this "
                                         f"version of nnviz (no module {module_name})") from None
            module.add_arguments(p)
            p.epilog = getattr(module, "EPILOG", None)
    return parser, module


class CommandUnavailable(Exception):
    """The command's module cannot be imported; main() prints it as one line and exits 1."""


def main(argv: list[str] | None = None) -> int:
    """Parse argv (default sys.argv[1:]), run the command, return the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        command = _command_in(argv)
        parser, module = build_parser(command if command in COMMANDS else None)
        args = parser.parse_args(argv)
        if args.command is None:
            raise ArgumentError(f"{parser.prog}: error: choose a command: {', '.join(COMMANDS)} "
                                f"(see python -m nnviz --help)")
        return int(module.run(args) or 0)
    except ArgumentError as e:
        print(e, file=sys.stderr)
        return 2
    except CommandUnavailable as e:
        print(e, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `... | head`: the reader left; say nothing, and let exit not flush again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
