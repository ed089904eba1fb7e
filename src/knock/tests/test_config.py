"""Settings: unknown or invalid KNOCK_* variables stop the server with a clear message."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from knock.config import SettingsError, load_settings


def test_defaults_are_sqlite_in_var_and_memory_broker() -> None:
    settings = load_settings(environ={})
    assert settings.effective_database_url.endswith("var/knock.db")
    assert settings.broker_url == "memory://"
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)


def test_values_come_from_the_environment() -> None:
    settings = load_settings(
        environ={
            "KNOCK_PORT": "9001",
            "KNOCK_WS_ALLOWED_ORIGINS": "https://a.example, https://b.example/",
            "KNOCK_BROKER_URL": "redis://127.0.0.1:6379/0",
            "KNOCK_TEST_ANYTHING": "ignored: test-only variables are not settings",
        }
    )
    assert settings.port == 9001
    assert settings.ws_allowed_origins == ["https://a.example", "https://b.example"]


@pytest.mark.parametrize(
    ("environ", "needle"),
    [
        ({"KNOCK_PROT": "1"}, "unknown setting(s): KNOCK_PROT"),
        ({"KNOCK_PORT": "eighty"}, "KNOCK_PORT"),
        ({"KNOCK_PORT": "70000"}, "KNOCK_PORT"),
        ({"KNOCK_BROKER_URL": "kafka://x"}, "KNOCK_BROKER_URL"),
        ({"KNOCK_DATABASE_URL": "mysql://x"}, "KNOCK_DATABASE_URL"),
        ({"KNOCK_PASSWORD_HASH_MEMORY_KIB": "1024"}, "KNOCK_PASSWORD_HASH_MEMORY_KIB"),
        ({"KNOCK_MEDIA_URL": "/var/knock/media"}, "KNOCK_MEDIA_URL"),
        ({"KNOCK_MEDIA_URL": "s3:///prefix"}, "needs a bucket name"),
        ({"KNOCK_MEDIA_UPLOADS_PER_MINUTE": "0"}, "KNOCK_MEDIA_UPLOADS_PER_MINUTE"),
    ],
)
def test_bad_settings_fail_with_a_message_naming_them(environ: dict[str, str], needle: str) -> None:
    with pytest.raises(SettingsError) as error:
        load_settings(environ=environ)
    assert needle in str(error.value)


def test_the_command_refuses_to_start_on_a_bad_setting() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KNOCK_")}
    env["KNOCK_PROT"] = "8000"
    result = subprocess.run(
        [sys.executable, "-m", "knock", "migrate"], env=env, capture_output=True, timeout=60
    )
    assert result.returncode == 2
    assert b"unknown setting(s): KNOCK_PROT" in result.stderr


def test_readme_documents_every_setting() -> None:
    from pathlib import Path

    from knock.config import Settings

    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text()
    missing = [n for n in Settings.model_fields if f"KNOCK_{n.upper()}" not in readme]
    assert not missing, f"README lacks: {missing}"
