"""Every goteo command ends quietly when the reader of its output leaves (``| head -3``)."""

from __future__ import annotations

import subprocess
import sys
from io import StringIO

import pytest
from django.core.management import call_command

from tests.processes import goteo_env

pytestmark = pytest.mark.slow


def quiet_pipe(tmp_path, command: str) -> subprocess.CompletedProcess[str]:
    """Run ``goteo COMMAND | head ...`` through a real shell pipe; stderr ends with goteo's exit code."""
    shell = f"{sys.executable} -m goteo.cli {command}; echo ${{PIPESTATUS[0]}} >&2"
    return subprocess.run(
        ["bash", "-c", shell], env=goteo_env(tmp_path), capture_output=True, text=True, timeout=120
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "command",
    [
        # The reader leaves before the first line, as ``| head -0`` would.
        "campaign_status | head -c 0",
        "campaign_status | head -3",
        "campaign_status --json | head -c 10",
    ],
)
def test_campaign_status_ends_quietly_on_a_closed_pipe(tmp_path, command):
    call_command("demo", stdout=StringIO(), stderr=StringIO())
    done = quiet_pipe(tmp_path, command)
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "0", done.stderr
