"""Settings read from the environment: secure cookies follow how the site is published."""

import json
import subprocess
import sys

import pytest

PROBE = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "print(json.dumps([s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS]))"
)


def settings_with(tmp_path, **env: str) -> list:
    environment = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "GOTEO_DATA_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "goteo.settings",
        **env,
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env=environment, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, [False, False, 0]),  # plain http on the shop's own network keeps working
        ({"CSRF_TRUSTED_ORIGINS": "https://promos.optica.co"}, [True, True, 0]),
        ({"CSRF_TRUSTED_ORIGINS": "https://promos.optica.co,http://10.0.0.5:8001"}, [False, False, 0]),
        (
            {"CSRF_TRUSTED_ORIGINS": "https://promos.optica.co", "GOTEO_SECURE_COOKIES": "0"},
            [False, False, 0],
        ),
        ({"GOTEO_SECURE_COOKIES": "1", "GOTEO_HSTS_SECONDS": "3600"}, [True, True, 3600]),
    ],
)
def test_it_secures_cookies_when_published_over_https(tmp_path, env, expected):
    assert settings_with(tmp_path, **env) == expected


def test_it_leaves_cookies_alone_in_debug(tmp_path):
    secure, _csrf, _hsts = settings_with(
        tmp_path, GOTEO_DEBUG="1", CSRF_TRUSTED_ORIGINS="https://promos.optica.co"
    )
    assert secure is False
