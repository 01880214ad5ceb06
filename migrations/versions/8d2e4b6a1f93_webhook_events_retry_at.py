"""webhook_events.retry_at: when a failed event's automatic retry is due

Revision ID: 8d2e4b6a1f93
Revises: b7d41c2e9a10
Create Date: 2026-12-02 07:55:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8d2e4b6a1f93'
down_revision = 'b7d41c2e9a10'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('webhook_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retry_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('webhook_events', schema=None) as batch_op:
        batch_op.drop_column('retry_at')
