"""Secrets encrypted at rest with Fernet (portal.crypto) and the ENCRYPTION_KEY setting."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from portal import crypto
from portal.config import ConfigError, load

ROOT = Path(__file__).resolve().parent.parent


def test_a_secret_round_trips_and_is_not_stored_in_clear():
    key = Fernet.generate_key().decode()
    token = crypto.encrypt("EAAG-secret-token", key=key)
    assert "EAAG-secret-token" not in token
    assert crypto.decrypt(token, key=key) == "EAAG-secret-token"


def test_a_secret_encrypted_with_another_key_is_refused_readably():
    token = crypto.encrypt("s3cret", key=Fernet.generate_key().decode())
    with pytest.raises(crypto.DecryptionError, match="ENCRYPTION_KEY"):
        crypto.decrypt(token, key=Fernet.generate_key().decode())


def test_rotation_keeps_old_secrets_readable_and_reencrypts_with_the_new_key():
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    token = crypto.encrypt("s3cret", key=old)
    assert crypto.decrypt(token, key=f"{new},{old}") == "s3cret"
    rotated = crypto.rotate(token, key=f"{new},{old}")
    assert crypto.decrypt(rotated, key=new) == "s3cret"


def test_development_derives_a_stable_key_from_the_secret_key(tmp_path, monkeypatch):
    monkeypatch.delenv("ENCRYPTION_KEY", raising=False)
    monkeypatch.setenv("SECRET_KEY", "dev-secret")
    first, second = load(tmp_path)["ENCRYPTION_KEY"], load(tmp_path)["ENCRYPTION_KEY"]
    assert first == second == crypto.derived_key("dev-secret")
    assert crypto.decrypt(crypto.encrypt("x", key=first), key=second) == "x"


def test_a_malformed_encryption_key_stops_the_start_with_a_hint(tmp_path, monkeypatch):
    monkeypatch.setenv("ENCRYPTION_KEY", "not-a-fernet-key")
    with pytest.raises(ConfigError, match="Fernet"):
        load(tmp_path)


def test_production_refuses_to_start_without_an_encryption_key():
    env = {k: v for k, v in os.environ.items() if k != "ENCRYPTION_KEY"}
    env.update(
        ATENDE_ENV="production",
        FLASK_APP="wsgi",
        SECRET_KEY="s",
        WHATSAPP_APP_SECRET="a",
        WHATSAPP_VERIFY_TOKEN="v",
        WHATSAPP_ACCESS_TOKEN="t",
        WHATSAPP_PHONE_NUMBER_ID="1",
    )
    result = subprocess.run(
        [sys.executable, "-c", "import wsgi"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "ENCRYPTION_KEY is not set" in result.stderr
