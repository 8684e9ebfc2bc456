"""Command output that a reader may stop reading, as in ``goteo demo --json | head -3``."""

from __future__ import annotations

import io
import os

from django.core.management.base import OutputWrapper


class PipeOutput:
    """Writes a command's lines, each flushed so a reader gets it at once, until the reader leaves.

    Once the reader has closed the pipe, writes are dropped quietly and the stream is pointed
    at the null device, so nothing fails again when the interpreter flushes it at exit.
    """

    def __init__(self, out: OutputWrapper) -> None:
        self.out = out
        self.closed = False

    def write(self, text: str) -> None:
        if self.closed:
            return
        try:
            self.out.write(text)
            self.out.flush()
        except BrokenPipeError:
            self.closed = True
            silence(self.out)


def silence(out: OutputWrapper) -> None:
    """Send whatever is still buffered for ``out``'s file to the null device."""
    stream = getattr(out, "_out", None)  # the file the wrapper writes to
    try:
        fd = stream.fileno()  # type: ignore[union-attr]
    except (AttributeError, io.UnsupportedOperation, ValueError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)
