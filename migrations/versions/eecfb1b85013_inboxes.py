"""inboxes: one row per connected account; every conversation belongs to one; agents are members

The install's WhatsApp number (WHATSAPP_PHONE_NUMBER_ID, WHATSAPP_ACCESS_TOKEN and, when set,
WHATSAPP_BUSINESS_ACCOUNT_ID) becomes the first inbox when the database already holds data: every
conversation moves into it, every agent becomes its member and every template belongs to its
business account, so an existing install works on with no manual step. A new install gets its
first inbox from `flask init` (portal.services.inboxes.bootstrap_from_config).

Revision ID: eecfb1b85013
Revises: d5e8a1c3f7b2
Create Date: 2026-12-02 07:45:00

"""
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op
from flask import current_app

revision = 'eecfb1b85013'
down_revision = 'd5e8a1c3f7b2'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
OPEN_ONLY = "status NOT IN ('lost', 'closed')"


def upgrade():
    op.create_table('inboxes',
    sa.Column('id', BigId, nullable=False),
    sa.Column('channel', sa.Enum('whatsapp', 'email', name='inbox_channel', length=20), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('phone_number_id', sa.String(length=64), nullable=True),
    sa.Column('waba_id', sa.String(length=64), nullable=True),
    sa.Column('display_phone', sa.String(length=32), nullable=True),
    sa.Column('access_token_encrypted', sa.Text(), nullable=True),
    sa.Column('settings', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inboxes')),
    sa.UniqueConstraint('name', name=op.f('uq_inboxes_name')),
    sa.UniqueConstraint('phone_number_id', name=op.f('uq_inboxes_phone_number_id'))
    )
    op.create_table('agent_inboxes',
    sa.Column('agent_id', BigId, nullable=False),
    sa.Column('inbox_id', BigId, nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], name=op.f('fk_agent_inboxes_agent_id_agents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['inbox_id'], ['inboxes.id'], name=op.f('fk_agent_inboxes_inbox_id_inboxes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('agent_id', 'inbox_id', name=op.f('pk_agent_inboxes'))
    )
    with op.batch_alter_table('message_templates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('waba_id', sa.String(length=64), nullable=True))

    # The partial index is dropped before SQLite's batch copy of the table and made again after it,
    # so its WHERE clause is never lost in the copy.
    op.drop_index('uq_conversations_one_open', table_name='conversations')
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('inbox_id', BigId, nullable=True))

    _first_inbox_for_existing_data()

    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.alter_column('inbox_id', existing_type=BigId, nullable=False)
        batch_op.create_foreign_key(op.f('fk_conversations_inbox_id_inboxes'), 'inboxes', ['inbox_id'], ['id'])
        batch_op.create_index('ix_conversations_inbox_id', ['inbox_id'], unique=False)
    op.create_index('uq_conversations_one_open', 'conversations', ['contact_id', 'inbox_id'], unique=True,
                    sqlite_where=sa.text(OPEN_ONLY), postgresql_where=sa.text(OPEN_ONLY))


def _first_inbox_for_existing_data():
    conn = op.get_bind()
    if not any(conn.scalar(sa.text(f"SELECT count(*) FROM {table}")) for table in ("conversations", "agents", "message_templates")):
        return
    # App code, imported here on purpose: the first inbox is described and encrypted exactly as
    # `flask init` does it on a new install.
    from portal import crypto
    from portal.services.inboxes import first_inbox_values

    values = first_inbox_values(current_app.config)
    if values is None:
        raise RuntimeError("Set WHATSAPP_PHONE_NUMBER_ID (and WHATSAPP_ACCESS_TOKEN): the existing conversations move into the inbox of that number.")
    token = values.pop("access_token")
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    conn.execute(
        sa.text(
            "INSERT INTO inboxes (channel, name, enabled, phone_number_id, waba_id, display_phone,"
            " access_token_encrypted, created_at, updated_at)"
            " VALUES ('whatsapp', :name, :enabled, :phone_number_id, :waba_id, :display_phone, :token, :now, :now)"
        ),
        {**values, "enabled": True, "token": crypto.encrypt(token) if token else None, "now": now},
    )
    inbox_id = conn.scalar(sa.text("SELECT id FROM inboxes WHERE phone_number_id = :p"), {"p": values["phone_number_id"]})
    conn.execute(sa.text("UPDATE conversations SET inbox_id = :i"), {"i": inbox_id})
    conn.execute(sa.text("INSERT INTO agent_inboxes (agent_id, inbox_id) SELECT id, :i FROM agents"), {"i": inbox_id})
    if values["waba_id"]:
        conn.execute(sa.text("UPDATE message_templates SET waba_id = :w"), {"w": values["waba_id"]})


def downgrade():
    op.drop_index('uq_conversations_one_open', table_name='conversations')
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_index('ix_conversations_inbox_id')
        batch_op.drop_constraint(op.f('fk_conversations_inbox_id_inboxes'), type_='foreignkey')
        batch_op.drop_column('inbox_id')
    op.create_index('uq_conversations_one_open', 'conversations', ['contact_id', 'channel'], unique=True,
                    sqlite_where=sa.text(OPEN_ONLY), postgresql_where=sa.text(OPEN_ONLY))
    with op.batch_alter_table('message_templates', schema=None) as batch_op:
        batch_op.drop_column('waba_id')
    op.drop_table('agent_inboxes')
    op.drop_table('inboxes')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TYPE IF EXISTS inbox_channel")
