"""`flask --app wsgi backup` and `restore` (portal/ops/backup.py)."""

from pathlib import Path

import click
from flask import Flask
from flask_babel import ngettext

from portal.models import utcnow
from portal.ops import backup as backups


@click.command("backup")
@click.option("--output", type=click.Path(path_type=Path), default=Path("."),
              help="Archive to write, or a folder for atende-backup-<UTC time>.tar (default: here).")
def backup(output: Path) -> None:
    """Write the database and the media files into one archive with a manifest and checksums."""
    if output.is_dir():
        output = output / f"atende-backup-{utcnow():%Y%m%dT%H%M%SZ}.tar"
    try:
        outcome = backups.backup(output)
    except backups.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(ngettext("Backup written to %(path)s (database and %(num)d media file).",
                        "Backup written to %(path)s (database and %(num)d media files).",
                        outcome.media_files, path=outcome.path))


@click.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def restore(archive: Path) -> None:
    """Load a backup into an empty database and media folder, after checking every checksum."""
    try:
        outcome = backups.restore(archive)
    except backups.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(ngettext("Restored %(path)s (database and %(num)d media file).",
                        "Restored %(path)s (database and %(num)d media files).",
                        outcome.media_files, path=outcome.path))


def register(app: Flask) -> None:
    app.cli.add_command(backup)
    app.cli.add_command(restore)
