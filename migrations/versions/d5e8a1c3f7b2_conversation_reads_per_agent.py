"""conversation_reads: how far each agent has read each conversation (unread counts per agent)

Revision ID: d5e8a1c3f7b2
Revises: c4e8a1f2b6d3
Create Date: 2026-12-02 08:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd5e8a1c3f7b2'
down_revision = 'c4e8a1f2b6d3'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    op.create_table(
        'conversation_reads',
        sa.Column('agent_id', BIG_ID, nullable=False),
        sa.Column('conversation_id', BIG_ID, nullable=False),
        sa.Column('last_read_message_id', BIG_ID, nullable=False),
        sa.Column('last_read_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], name=op.f('fk_conversation_reads_agent_id_agents'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_conversation_reads_conversation_id_conversations'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('agent_id', 'conversation_id', name=op.f('pk_conversation_reads')),
    )
    with op.batch_alter_table('conversation_reads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conversation_reads_conversation_id'), ['conversation_id'], unique=False)


def downgrade():
    with op.batch_alter_table('conversation_reads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conversation_reads_conversation_id'))
    op.drop_table('conversation_reads')
