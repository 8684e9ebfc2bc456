"""``goteo run_worker``: send for every active campaign, continuously, until stopped."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.db import connections

from goteo.checks import require_migrated
from goteo.collector import tune_collector
from goteo.conf import env_int
from goteo.management.base import GoteoCommand
from goteo.supervisor import RESTART_SECONDS, Supervisor, copy_command, parse_shard
from goteo.worker import HEARTBEAT_SECONDS, RESCAN_SECONDS, Worker


class Command(GoteoCommand):
    help = (
        "Envía sin parar para todas las campañas activas, dentro de su horario, con muchos "
        "números a la vez. SIGTERM o Ctrl-C terminan el mensaje en curso y salen; una "
        "segunda señal sale de inmediato."
    )
    needs_migrated_database = False  # checked in handle, after its own options

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--threads",
            type=int,
            default=env_int("GOTEO_WORKER_THREADS", 8),
            help="envíos simultáneos de cada proceso (hilos y conexiones a la base de datos); por omisión 8",
        )
        parser.add_argument(
            "--processes",
            type=int,
            default=env_int("GOTEO_WORKER_PROCESSES", 1),
            help="procesos que se reparten los números, uno por núcleo (Linux y macOS); por omisión 1",
        )
        # Set by the supervisor on each of its processes.
        parser.add_argument("--shard", type=shard_argument, help=argparse.SUPPRESS)
        parser.add_argument("--parent-pid", type=int, help=argparse.SUPPRESS)
        parser.add_argument("--name", help="nombre del worker (por omisión equipo:pid)")
        parser.add_argument(
            "--heartbeat",
            type=float,
            default=HEARTBEAT_SECONDS,
            help="segundos entre latidos (máximo 60)",
        )
        parser.add_argument(
            "--rescan",
            type=float,
            default=RESCAN_SECONDS,
            help="segundos entre búsquedas de campañas nuevas o reanudadas",
        )
        parser.add_argument(
            "--exit-when-idle",
            action="store_true",
            help="termina cuando no queda nada que enviar por ahora (cron y pruebas)",
        )

    def handle(
        self,
        *args: Any,
        threads: int,
        processes: int,
        name: str | None,
        heartbeat: float,
        rescan: float,
        exit_when_idle: bool,
        **options: Any,
    ) -> None:
        if threads < 1:
            raise CommandError("--threads debe ser al menos 1.")
        if processes < 1:
            raise CommandError("--processes debe ser al menos 1.")
        if not 0 < heartbeat <= 60 or rescan <= 0:
            raise CommandError("--heartbeat debe estar entre 0 y 60 segundos y --rescan ser positivo.")
        require_migrated()
        shard = options.get("shard")
        if processes > 1 and shard is None:
            if os.name == "nt":
                raise CommandError(
                    "--processes necesita Linux o macOS; en Windows inicie varios run_worker (docs/scaling.md)."
                )
            connections.close_all()  # the supervisor itself needs no database
            flags = [f"--threads={threads}", f"--heartbeat={heartbeat}", f"--rescan={rescan}"]
            flags += ["--exit-when-idle"] if exit_when_idle else []
            supervisor = Supervisor(
                copy_command(flags, processes, name),
                processes,
                say=self.say,
                exit_when_idle=exit_when_idle,
                restart_seconds=env_int("GOTEO_WORKER_RESTART_SECONDS", int(RESTART_SECONDS)),
            )
            supervisor.install_signal_handlers()
            code = supervisor.run()
            if code:
                sys.exit(code)
            return
        worker = Worker(
            name=name,
            threads=threads,
            report=self.say,
            heartbeat_seconds=heartbeat,
            rescan_seconds=rescan,
            exit_when_idle=exit_when_idle,
            shard=shard,
            parent_pid=options.get("parent_pid"),
        )
        worker.install_signal_handlers()
        tune_collector()
        worker.run()

    def say(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()


def shard_argument(text: str) -> tuple[int, int]:
    try:
        return parse_shard(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"se esperaba índice/total, como 0/4: {text!r}") from None
