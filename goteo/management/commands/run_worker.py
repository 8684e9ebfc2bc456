"""``goteo run_worker``: send for every active campaign, continuously, until stopped."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from goteo.checks import require_migrated
from goteo.conf import env_int
from goteo.worker import HEARTBEAT_SECONDS, RESCAN_SECONDS, Worker, tune_collector


class Command(BaseCommand):
    help = (
        "Envía sin parar para todas las campañas activas, dentro de su horario, con muchos "
        "números a la vez. SIGTERM o Ctrl-C terminan el mensaje en curso y salen; una "
        "segunda señal sale de inmediato."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--threads",
            type=int,
            default=env_int("GOTEO_WORKER_THREADS", 8),
            help="envíos simultáneos (hilos y conexiones a la base de datos); por omisión 8",
        )
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

    def handle(self, *args, threads, name, heartbeat, rescan, exit_when_idle, **options):
        if threads < 1:
            raise CommandError("--threads debe ser al menos 1.")
        if not 0 < heartbeat <= 60 or rescan <= 0:
            raise CommandError("--heartbeat debe estar entre 0 y 60 segundos y --rescan ser positivo.")
        require_migrated()
        worker = Worker(
            name=name,
            threads=threads,
            report=self.say,
            heartbeat_seconds=heartbeat,
            rescan_seconds=rescan,
            exit_when_idle=exit_when_idle,
        )
        worker.install_signal_handlers()
        tune_collector()
        worker.run()

    def say(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()
