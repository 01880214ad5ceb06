"""messages.send_claimed_until: the send attempt in flight holds the message until then

Revision ID: 3c1f0a9d2b7e
Revises: ef30fced4f7f
Create Date: 2026-12-02 07:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3c1f0a9d2b7e'
down_revision = 'ef30fced4f7f'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('send_claimed_until', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_column('send_claimed_until')
