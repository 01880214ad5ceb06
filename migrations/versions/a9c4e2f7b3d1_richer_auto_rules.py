"""auto-rules: conditions, more actions, repetition with a cool-down, a second reply by choice

Revision ID: a9c4e2f7b3d1
Revises: f2b8d4c6e1a3
Create Date: 2026-12-02 14:05:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a9c4e2f7b3d1'
down_revision = 'f2b8d4c6e1a3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('auto_rules', schema=None) as batch_op:
        batch_op.alter_column('template_id', existing_type=sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True)
        batch_op.add_column(sa.Column('conditions', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('actions', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('cooldown_minutes', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('allow_second_reply', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    op.execute("DELETE FROM auto_rule_firings WHERE rule_id IN (SELECT id FROM auto_rules WHERE template_id IS NULL)")
    op.execute("DELETE FROM auto_rules WHERE template_id IS NULL")
    with op.batch_alter_table('auto_rules', schema=None) as batch_op:
        batch_op.drop_column('allow_second_reply')
        batch_op.drop_column('cooldown_minutes')
        batch_op.drop_column('actions')
        batch_op.drop_column('conditions')
        batch_op.alter_column('template_id', existing_type=sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False)
