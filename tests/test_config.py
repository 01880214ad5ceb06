import os
import subprocess
import sys
from pathlib import Path

import pytest

from portal import config
from portal.config import ConfigError

ROOT = Path(__file__).resolve().parent.parent

GOOD_PRODUCTION_ENV = {
    "ATENDE_ENV": "production",
    "SECRET_KEY": "4f0c9a1e7b3d52a86e1f0b9c3d7a2e5f8b1c4d6e9f0a3b5c",
    "WHATSAPP_APP_SECRET": "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b",
    "WHATSAPP_VERIFY_TOKEN": "k3yb0ard-walk-verify-91f2",
    "WHATSAPP_ACCESS_TOKEN": "EAAGm0PX4ZCpsBA1b2c3d4e5f6",
    "WHATSAPP_PHONE_NUMBER_ID": "106540352242922",
    "ENCRYPTION_KEY": "rA4mP0oYxbw3JpV9o2S9f8yQqL8sWq3nZ0sV1mX5eWc=",
}


def _start_wsgi(**overrides) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WHATSAPP_", "SECRET_KEY", "ATENDE_ENV", "ENCRYPTION_KEY"))}
    env.update(FLASK_APP="wsgi", **overrides)
    return subprocess.run(
        [sys.executable, "-c", "import wsgi"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def _production(monkeypatch, tmp_path, **changes) -> dict:
    for name, value in {**GOOD_PRODUCTION_ENV, **changes}.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    return config.load(tmp_path)


def _problems(monkeypatch, tmp_path, **changes) -> list[str]:
    with pytest.raises(ConfigError) as refused:
        _production(monkeypatch, tmp_path, **changes)
    return refused.value.problems


def test_production_refuses_to_start_without_secrets_one_line_each():
    result = _start_wsgi(ATENDE_ENV="production")
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == len(config.PRODUCTION_SECRETS)
    assert all(line.startswith("atende: ") and line.endswith("is not set") for line in lines)
    assert "SECRET_KEY" in lines[0] and "WHATSAPP_APP_SECRET" in lines[1]


def test_production_starts_with_strong_secrets(monkeypatch, tmp_path):
    cfg = _production(monkeypatch, tmp_path)
    assert cfg["SECRET_KEY"] == GOOD_PRODUCTION_ENV["SECRET_KEY"]


@pytest.mark.parametrize(
    "name, value, reason",
    [
        ("WHATSAPP_APP_SECRET", "dev-app-secret", "development default"),
        ("WHATSAPP_VERIFY_TOKEN", "dev-verify-token", "development default"),
        ("WHATSAPP_ACCESS_TOKEN", "dev-access-token", "development default"),
        ("WHATSAPP_PHONE_NUMBER_ID", "100000000000001", "development default"),
        ("SECRET_KEY", "4f0c9a1e7b3d52a86e1f0b9c3d7a2e5", "31 characters"),
        ("WHATSAPP_APP_SECRET", "9e8d7c6b5a4f3e2d", "16 characters"),
        ("SECRET_KEY", "4f0c9a1e7b3d52a86e1f0b9c3d7a2e5f 8b1c4d6e9f0a3b5c", "whitespace"),
        ("SECRET_KEY", "4f0c9a1e7b3d52a86e1f0b9c3d7a2e5f8b1c4d6e9f0a3b5c\n", "whitespace"),
        ("SECRET_KEY", "change-me-change-me-change-me-change-me", "placeholder"),
        ("WHATSAPP_APP_SECRET", "CHANGEME_0123456789abcdefghijklmnop", "placeholder"),
        ("SECRET_KEY", "my-super-secret-key-for-atende-2026", "placeholder"),
        ("WHATSAPP_VERIFY_TOKEN", "changeme", "placeholder"),
        ("SECRET_KEY", "a" * 64, "repeats"),
        ("SECRET_KEY", "0123" * 10, "repeats"),
    ],
)
def test_production_refuses_default_or_trivial_secrets(monkeypatch, tmp_path, name, value, reason):
    problems = _problems(monkeypatch, tmp_path, **{name: value})
    assert len(problems) == 1
    assert problems[0].startswith(name) and reason in problems[0]


def test_every_bad_secret_gets_its_own_line(monkeypatch, tmp_path):
    problems = _problems(
        monkeypatch, tmp_path, SECRET_KEY="short", WHATSAPP_APP_SECRET="dev-app-secret", WHATSAPP_ACCESS_TOKEN=None
    )
    assert [p.split()[0] for p in problems] == ["SECRET_KEY", "WHATSAPP_APP_SECRET", "WHATSAPP_ACCESS_TOKEN"]


@pytest.mark.parametrize("value", ["prod", "Production", "staging", "test", ""])
def test_unknown_environment_is_refused_instead_of_running_as_development(value):
    result = _start_wsgi(ATENDE_ENV=value)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("atende: ATENDE_ENV=") and "development, production" in lines[0]


def test_development_defaults_to_sqlite_under_instance(tmp_path):
    env_backup = os.environ.pop("DATABASE_URL", None)
    try:
        cfg = config.load(tmp_path)
    finally:
        if env_backup is not None:
            os.environ["DATABASE_URL"] = env_backup
    assert cfg["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'atende.db'}"
    assert cfg["SECRET_KEY"]


def test_trusted_proxies_must_be_a_whole_number():
    result = _start_wsgi(TRUSTED_PROXIES="one")
    assert result.returncode != 0
    assert result.stderr.strip() == "atende: TRUSTED_PROXIES='one' must be a whole number (0 or more)"
