"""Command-line pieces the benchmarks share: one-line errors, positive whole numbers and the
folder their logs go to."""

import argparse
import contextlib
import tempfile
from pathlib import Path
from typing import NoReturn


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, not argparse's usage block: the benches
    are usually run from scripts."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def positive(text: str) -> int:
    """A whole number of at least 1, for ``type=``."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def work_dir(stack: contextlib.ExitStack, log_dir: Path | None) -> Path:
    """``log_dir`` (created) when given, else a temporary folder removed when ``stack`` closes."""
    if log_dir is None:
        return Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-")))
    log_dir.mkdir(parents=True, exist_ok=True)
    return log_dir
