"""business hours and holidays per team, the out-of-hours cool-down, repeating rule firings

Revision ID: f2b8d4c6e1a3
Revises: e1a7c3b9d2f4
Create Date: 2026-12-02 13:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f2b8d4c6e1a3'
down_revision = 'e1a7c3b9d2f4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('teams', schema=None) as batch_op:
        batch_op.add_column(sa.Column('business_hours', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('holidays', sa.JSON(), nullable=True))
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('out_of_hours_replied_at', sa.DateTime(), nullable=True))
    with op.batch_alter_table('auto_rule_firings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fire_count', sa.Integer(), server_default='1', nullable=False))


def downgrade():
    with op.batch_alter_table('auto_rule_firings', schema=None) as batch_op:
        batch_op.drop_column('fire_count')
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_column('out_of_hours_replied_at')
    with op.batch_alter_table('teams', schema=None) as batch_op:
        batch_op.drop_column('holidays')
        batch_op.drop_column('business_hours')
