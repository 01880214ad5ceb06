"""inbound shown for what it is: reactions, edits and deletions on messages, the ad referral on
conversations, WhatsApp's review status on templates

Revision ID: b7d41c2e9a10
Revises: 5b7e2c1a9d40
Create Date: 2026-12-02 07:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7d41c2e9a10'
down_revision = '5b7e2c1a9d40'
branch_labels = None
depends_on = None

TEMPLATE_STATUS = sa.Enum(
    'approved', 'pending', 'rejected', 'paused', 'disabled', 'flagged', 'in_appeal',
    'pending_deletion', 'deleted', 'archived', 'limit_exceeded',
    name='template_status', length=20,
)


def upgrade():
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reaction_emoji', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('reaction_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('edited_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('deleted_at', sa.DateTime(), nullable=True))
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('referral', sa.JSON(), nullable=True))
    # add_column does not create a PostgreSQL enum type (no-op on SQLite).
    TEMPLATE_STATUS.create(op.get_bind(), checkfirst=True)
    with op.batch_alter_table('message_templates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', TEMPLATE_STATUS, server_default='approved', nullable=False))


def downgrade():
    with op.batch_alter_table('message_templates', schema=None) as batch_op:
        batch_op.drop_column('status')
    TEMPLATE_STATUS.drop(op.get_bind(), checkfirst=True)
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_column('referral')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_column('deleted_at')
        batch_op.drop_column('edited_at')
        batch_op.drop_column('reaction_at')
        batch_op.drop_column('reaction_emoji')
