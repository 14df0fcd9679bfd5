"""What every command's parser shares: one-line errors, and number types that say what is wrong."""
from __future__ import annotations

import argparse
import math


class ArgumentError(Exception):
    """Raised by OneLineParser.error; main() prints it as one line and exits 2."""


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr (no usage dump, no traceback)."""

    def error(self, message: str):  # noqa: D401 (argparse's name)
        raise ArgumentError(f"{self.prog}: error: {' '.join(message.split())}")


# ----- argument types: each rejects a bad value with a short reason -------------------------
def number(kind, lo=None, hi=None, lo_open=False):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {'an integer' if kind is int else 'a number'}")
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
        if lo is not None and (value <= lo if lo_open else value < lo):
            raise argparse.ArgumentTypeError(f"{text} must be {'>' if lo_open else '>='} {lo}")
        if hi is not None and value > hi:
            raise argparse.ArgumentTypeError(f"{text} must be <= {hi}")
        return value
    parse.__name__ = kind.__name__  # argparse names the type in its messages
    return parse
