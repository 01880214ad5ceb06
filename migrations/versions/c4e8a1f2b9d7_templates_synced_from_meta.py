"""message_templates: category, components, external name and id, status reason and synced_at,
for templates synced from the WhatsApp business account (issue 21)

Revision ID: c4e8a1f2b9d7
Revises: c3d5f7a9b1e2
Create Date: 2026-12-02 17:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4e8a1f2b9d7'
down_revision = 'c3d5f7a9b1e2'
branch_labels = None
depends_on = None

CATEGORY = sa.Enum('marketing', 'utility', 'authentication', name='template_category', length=20)


def upgrade():
    CATEGORY.create(op.get_bind(), checkfirst=True)
    with op.batch_alter_table('message_templates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('category', CATEGORY, nullable=True))
        batch_op.add_column(sa.Column('components', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('external_name', sa.String(length=512), nullable=True))
        batch_op.add_column(sa.Column('external_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('status_reason', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('synced_at', sa.DateTime(), nullable=True))
        batch_op.create_index('ix_message_templates_waba_external', ['waba_id', 'external_name', 'language'])


def downgrade():
    with op.batch_alter_table('message_templates', schema=None) as batch_op:
        batch_op.drop_index('ix_message_templates_waba_external')
        for column in ('synced_at', 'status_reason', 'external_id', 'external_name', 'components', 'category'):
            batch_op.drop_column(column)
    CATEGORY.drop(op.get_bind(), checkfirst=True)
