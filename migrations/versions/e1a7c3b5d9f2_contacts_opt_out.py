"""contacts: opt-out (LGPD) time, message and text

Revision ID: e1a7c3b5d9f2
Revises: e7a1c5d9b3f2
Create Date: 2026-12-02 14:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e1a7c3b5d9f2'
down_revision = 'e7a1c5d9b3f2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('opted_out_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('opted_out_message_id', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('opted_out_text', sa.String(length=500), nullable=True))


def downgrade():
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_column('opted_out_text')
        batch_op.drop_column('opted_out_message_id')
        batch_op.drop_column('opted_out_at')
