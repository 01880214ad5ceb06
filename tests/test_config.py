import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_production_refuses_to_start_without_secrets():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WHATSAPP_", "SECRET_KEY"))}
    env.update(ATENDE_ENV="production", FLASK_APP="wsgi")
    result = subprocess.run(
        [sys.executable, "-c", "import wsgi"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "SECRET_KEY" in lines[0] and "WHATSAPP_APP_SECRET" in lines[0]


def test_development_defaults_to_sqlite_under_instance(tmp_path):
    from portal.config import load

    env_backup = os.environ.pop("DATABASE_URL", None)
    try:
        cfg = load(tmp_path)
    finally:
        if env_backup is not None:
            os.environ["DATABASE_URL"] = env_backup
    assert cfg["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'atende.db'}"
    assert cfg["SECRET_KEY"]
