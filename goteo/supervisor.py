"""``run_worker --processes N``: several worker processes on one machine, one per core.

Python runs one thread at a time in a process, so a worker uses a single core however
many threads it has. The supervisor starts N copies of ``run_worker``; copy ``i`` drives
only the numbers whose id leaves ``i`` when divided by N (``shard_of``), so the copies
share the numbers instead of competing for each one. Competing would still be safe
(every claim is a compare-and-set); it would only waste work.

The supervisor holds no database connection and sends nothing. It passes each stop
signal on to the copies, which run in a session of their own so that a Ctrl-C in a
terminal reaches them once, through it, not twice (a second signal means "exit at
once"). A copy that dies is started again after RESTART_SECONDS; a copy that finds its
supervisor gone stops by itself. The supervisor exits when every copy has.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

RESTART_SECONDS = 5.0
POLL_SECONDS = 0.2


def shard_of(sender_id: int, count: int) -> int:
    """Which of ``count`` worker processes drives the sender with this id."""
    return sender_id % count


def parse_shard(text: str) -> tuple[int, int]:
    """``"1/4"`` -> (1, 4); raises ValueError when it is not ``index/count`` with index < count."""
    index, _, count = text.partition("/")
    shard = int(index), int(count)
    if not 0 <= shard[0] < shard[1]:
        raise ValueError(text)
    return shard


def launcher() -> list[str]:
    """How this process was started, up to the command name: the copies start the same way.

    ``goteo run_worker ...``, ``python manage.py run_worker ...`` and ``python -m
    package run_worker ...`` all give back their own first words (interpreter options
    included), so the copies run the same code with the same settings.
    """
    original = list(getattr(sys, "orig_argv", [sys.executable, *sys.argv]))
    return original[: len(original) - len(sys.argv) + 1]


def copy_command(options: Sequence[str], count: int, name: str | None) -> Callable[[int], list[str]]:
    """The command line of each copy: ``run_worker`` with ``options``, its shard and its
    supervisor's pid, started the way this process was."""
    start = [*launcher(), "run_worker", *options, f"--parent-pid={os.getpid()}"]

    def command(index: int) -> list[str]:
        named = [f"--name={name}/{index}"] if name else []
        return [*start, *named, f"--shard={index}/{count}"]

    return command


@dataclass
class Copy:
    """One worker process the supervisor keeps running."""

    index: int
    process: subprocess.Popen[bytes] | None = None
    restart_at: float | None = None
    finished: bool = False


class Supervisor:
    """Keeps ``count`` copies of a worker command running until told to stop.

    ``command(i)`` is the argument list of copy ``i``; ``exit_when_idle`` means a copy
    that exits 0 is done, not dead.
    """

    def __init__(
        self,
        command: Callable[[int], Sequence[str]],
        count: int,
        *,
        say: Callable[[str], None],
        exit_when_idle: bool = False,
        restart_seconds: float = RESTART_SECONDS,
    ) -> None:
        self.command = command
        self.copies = [Copy(i) for i in range(count)]
        self.say = say
        self.exit_when_idle = exit_when_idle
        self.restart_seconds = restart_seconds
        self.signals = 0
        self.last_signal = signal.SIGTERM
        self.codes: dict[int, int] = {}

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self.handle_signal)
        signal.signal(signal.SIGINT, self.handle_signal)

    def handle_signal(self, signum: int, frame: object) -> None:
        """Each signal goes on to every copy: the first stops them cleanly, the second at once."""
        self.signals += 1
        self.last_signal = signal.Signals(signum)
        for copy in self.copies:
            if copy.process is not None and copy.process.poll() is None:
                copy.process.send_signal(signal.SIGTERM)

    def run(self) -> int:
        """Start the copies and look after them; the exit status once all have stopped."""
        self.say(f"Supervisor de {len(self.copies)} procesos iniciado.")
        for copy in self.copies:
            self.start(copy)
        while not all(copy.finished for copy in self.copies):
            time.sleep(POLL_SECONDS)
            for copy in self.copies:
                self.look_after(copy)
        if self.signals > 1:
            return 128 + self.last_signal
        return max(self.codes.values(), default=0)

    def start(self, copy: Copy) -> None:
        copy.process = subprocess.Popen(list(self.command(copy.index)), start_new_session=True)
        copy.restart_at = None

    def look_after(self, copy: Copy) -> None:
        """Note a copy that exited, and start it again when it should not have."""
        if copy.finished:
            return
        if copy.process is None:  # waiting to be started again
            if self.signals:
                copy.finished = True
            elif copy.restart_at is not None and time.monotonic() >= copy.restart_at:
                self.start(copy)
            return
        code = copy.process.poll()
        if code is None:
            return
        copy.process = None
        if self.signals or (self.exit_when_idle and code == 0):
            copy.finished = True
            self.codes[copy.index] = code if code >= 0 else 128 - code
            return
        self.say(
            f"⚠ El proceso {copy.index} del worker terminó (código {code}); "
            f"se inicia de nuevo en {self.restart_seconds:.0f} s."
        )
        copy.restart_at = time.monotonic() + self.restart_seconds
