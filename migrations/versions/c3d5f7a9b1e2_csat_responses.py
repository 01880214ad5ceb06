"""csat_responses: the satisfaction survey a closed conversation sent and its answer

Revision ID: c3d5f7a9b1e2
Revises: b7d3e9f1a2c5
Create Date: 2026-12-02 17:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3d5f7a9b1e2'
down_revision = 'b7d3e9f1a2c5'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    op.create_table(
        'csat_responses',
        sa.Column('id', BigId, nullable=False),
        sa.Column('conversation_id', BigId, nullable=False),
        sa.Column('inbox_id', BigId, nullable=False),
        sa.Column('agent_id', BigId, nullable=True),
        sa.Column('team_id', BigId, nullable=True),
        sa.Column('message_id', BigId, nullable=True),
        sa.Column('scale', sa.String(length=10), nullable=False),
        sa.Column('score', sa.Integer(), nullable=True),
        sa.Column('comment', sa.Text(), nullable=True),
        sa.Column('asked_at', sa.DateTime(), nullable=False),
        sa.Column('answered_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_csat_responses_conversation_id_conversations'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['inbox_id'], ['inboxes.id'], name=op.f('fk_csat_responses_inbox_id_inboxes')),
        sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], name=op.f('fk_csat_responses_agent_id_agents')),
        sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_csat_responses_team_id_teams'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_csat_responses_message_id_messages'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_csat_responses')),
        sa.UniqueConstraint('conversation_id', name=op.f('uq_csat_responses_conversation_id')),
    )
    op.create_index(op.f('ix_csat_responses_asked_at'), 'csat_responses', ['asked_at'])


def downgrade():
    op.drop_index(op.f('ix_csat_responses_asked_at'), table_name='csat_responses')
    op.drop_table('csat_responses')
