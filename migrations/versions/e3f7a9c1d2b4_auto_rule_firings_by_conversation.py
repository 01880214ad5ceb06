"""auto_rule_firings: index on conversation_id

The auto-rules engine reads a conversation's firing rows once per inbound message
(portal.services.rules._firings); the unique (rule_id, conversation_id) index cannot serve a lookup
by conversation alone.

Revision ID: e3f7a9c1d2b4
Revises: d5f9b2c3a4e8
Create Date: 2026-12-02 18:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e3f7a9c1d2b4'
down_revision = 'd5f9b2c3a4e8'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('auto_rule_firings', schema=None) as batch_op:
        batch_op.create_index('ix_auto_rule_firings_conversation_id', ['conversation_id'], unique=False)


def downgrade():
    with op.batch_alter_table('auto_rule_firings', schema=None) as batch_op:
        batch_op.drop_index('ix_auto_rule_firings_conversation_id')
