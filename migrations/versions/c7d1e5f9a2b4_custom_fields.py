"""custom fields: the custom_field_definitions table, contacts' and conversations' custom_fields

Revision ID: c7d1e5f9a2b4
Revises: a7d3e9f1c2b4
Create Date: 2026-12-02 16:55:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c7d1e5f9a2b4'
down_revision = 'a7d3e9f1c2b4'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    op.create_table(
        'custom_field_definitions',
        sa.Column('id', BigId, nullable=False),
        sa.Column('entity', sa.String(length=20), nullable=False),
        sa.Column('key', sa.String(length=40), nullable=False),
        sa.Column('label', sa.String(length=100), nullable=False),
        sa.Column('field_type', sa.String(length=20), nullable=False),
        sa.Column('options', sa.JSON(), nullable=True),
        sa.Column('required', sa.Boolean(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_custom_field_definitions')),
        sa.UniqueConstraint('entity', 'key', name='uq_custom_field_definitions_entity_key'),
    )
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('custom_fields', sa.JSON(), nullable=True))
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('custom_fields', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_column('custom_fields')
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_column('custom_fields')
    op.drop_table('custom_field_definitions')
