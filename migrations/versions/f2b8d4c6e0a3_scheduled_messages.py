"""scheduled_messages: messages an agent wrote to go out later

Revision ID: f2b8d4c6e0a3
Revises: e1a7c3b5d9f2
Create Date: 2026-12-02 14:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f2b8d4c6e0a3'
down_revision = 'e1a7c3b5d9f2'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    op.create_table(
        'scheduled_messages',
        sa.Column('id', BigId, nullable=False),
        sa.Column('conversation_id', BigId, nullable=False),
        sa.Column('created_by_id', BigId, nullable=True),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('template_id', BigId, nullable=True),
        sa.Column('template_params', sa.JSON(), nullable=True),
        sa.Column('send_at', sa.DateTime(), nullable=False),
        sa.Column('status', sa.Enum('pending', 'sent', 'failed', 'cancelled', name='scheduled_message_status',
                                    length=20), nullable=False),
        sa.Column('message_id', BigId, nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('cancelled_at', sa.DateTime(), nullable=True),
        sa.Column('cancelled_by_id', BigId, nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_scheduled_messages_conversation_id_conversations'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['created_by_id'], ['agents.id'], name=op.f('fk_scheduled_messages_created_by_id_agents')),
        sa.ForeignKeyConstraint(['cancelled_by_id'], ['agents.id'], name=op.f('fk_scheduled_messages_cancelled_by_id_agents')),
        sa.ForeignKeyConstraint(['template_id'], ['message_templates.id'], name=op.f('fk_scheduled_messages_template_id_message_templates')),
        sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_scheduled_messages_message_id_messages')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_scheduled_messages')),
    )
    op.create_index('ix_scheduled_messages_status_send_at', 'scheduled_messages', ['status', 'send_at'])
    op.create_index('ix_scheduled_messages_conversation_id', 'scheduled_messages', ['conversation_id'])


def downgrade():
    op.drop_index('ix_scheduled_messages_conversation_id', table_name='scheduled_messages')
    op.drop_index('ix_scheduled_messages_status_send_at', table_name='scheduled_messages')
    op.drop_table('scheduled_messages')
    sa.Enum(name='scheduled_message_status').drop(op.get_bind(), checkfirst=True)
