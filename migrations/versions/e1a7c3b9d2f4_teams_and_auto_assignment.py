"""teams, team members, a conversation's team and queue position, agents' capacity

Revision ID: e1a7c3b9d2f4
Revises: ca9498720acf
Create Date: 2026-12-02 13:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e1a7c3b9d2f4'
down_revision = 'ca9498720acf'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
ASSIGN_MODE = sa.Enum('off', 'round_robin', 'fewest_open', name='team_auto_assign', length=20)


def upgrade():
    op.create_table(
        'teams',
        sa.Column('id', BigId, nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('auto_assign', ASSIGN_MODE, server_default='off', nullable=False),
        sa.Column('last_assigned_agent_id', BigId, nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['last_assigned_agent_id'], ['agents.id'], name=op.f('fk_teams_last_assigned_agent_id_agents'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_teams')),
        sa.UniqueConstraint('name', name=op.f('uq_teams_name')),
    )
    op.create_table(
        'team_members',
        sa.Column('team_id', BigId, nullable=False),
        sa.Column('agent_id', BigId, nullable=False),
        sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], name=op.f('fk_team_members_agent_id_agents'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_team_members_team_id_teams'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('team_id', 'agent_id', name=op.f('pk_team_members')),
    )
    with op.batch_alter_table('team_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_team_members_agent_id'), ['agent_id'], unique=False)
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('team_id', BigId, nullable=True))
        batch_op.add_column(sa.Column('queued_at', sa.DateTime(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_conversations_team_id_teams'), 'teams', ['team_id'], ['id'], ondelete='SET NULL')
        batch_op.create_index('ix_conversations_team_queue', ['team_id', 'queued_at'], unique=False)
    with op.batch_alter_table('agents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('max_open_conversations', sa.Integer(), server_default='10', nullable=False))


def downgrade():
    with op.batch_alter_table('agents', schema=None) as batch_op:
        batch_op.drop_column('max_open_conversations')
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_index('ix_conversations_team_queue')
        batch_op.drop_constraint(batch_op.f('fk_conversations_team_id_teams'), type_='foreignkey')
        batch_op.drop_column('queued_at')
        batch_op.drop_column('team_id')
    with op.batch_alter_table('team_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_team_members_agent_id'))
    op.drop_table('team_members')
    op.drop_table('teams')
    ASSIGN_MODE.drop(op.get_bind(), checkfirst=True)
