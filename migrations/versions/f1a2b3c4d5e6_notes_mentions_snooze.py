"""notes, mentions and snooze: messages.direction `internal`, the mentions table, conversations'
snoozed_at and snoozed_until

Revision ID: f1a2b3c4d5e6
Revises: a9c4e2f7b3d1
Create Date: 2026-12-02 13:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f1a2b3c4d5e6'
down_revision = 'a9c4e2f7b3d1'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        # A new enum value cannot be used in the transaction that adds it.
        with op.get_context().autocommit_block():
            op.execute("ALTER TYPE message_direction ADD VALUE IF NOT EXISTS 'internal'")
    op.create_table(
        'mentions',
        sa.Column('id', BigId, nullable=False),
        sa.Column('message_id', BigId, nullable=False),
        sa.Column('agent_id', BigId, nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('seen_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], name=op.f('fk_mentions_agent_id_agents'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_mentions_message_id_messages'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_mentions')),
        sa.UniqueConstraint('message_id', 'agent_id', name='uq_mentions_message_agent'),
    )
    with op.batch_alter_table('mentions', schema=None) as batch_op:
        batch_op.create_index('ix_mentions_agent_created', ['agent_id', 'created_at'], unique=False)
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('snoozed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('snoozed_until', sa.DateTime(), nullable=True))
        batch_op.create_index('ix_conversations_snoozed_until', ['snoozed_until'], unique=False)


def downgrade():
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_index('ix_conversations_snoozed_until')
        batch_op.drop_column('snoozed_until')
        batch_op.drop_column('snoozed_at')
    op.drop_table('mentions')
    # Internal rows (notes, activity lines) go; PostgreSQL keeps the enum value, unused.
    op.execute("DELETE FROM messages WHERE direction = 'internal'")
