"""campaigns.template_extras: the header and button values of a template synced with them

Revision ID: d5f9b2c3a4e8
Revises: c4e8a1f2b9d7
Create Date: 2026-12-02 18:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd5f9b2c3a4e8'
down_revision = 'c4e8a1f2b9d7'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('template_extras', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_column('template_extras')
