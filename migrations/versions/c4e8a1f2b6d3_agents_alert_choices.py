"""agents: the alert choices for live updates (a sound, a desktop notification)

Revision ID: c4e8a1f2b6d3
Revises: c4a9e7d1b2f6
Create Date: 2026-12-02 08:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4e8a1f2b6d3'
down_revision = 'c4a9e7d1b2f6'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('agents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('alert_sound', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('alert_desktop', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('agents', schema=None) as batch_op:
        batch_op.drop_column('alert_desktop')
        batch_op.drop_column('alert_sound')
