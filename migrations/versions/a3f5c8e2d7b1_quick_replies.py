"""quick_replies: shared and personal saved replies inserted with /shortcut

Revision ID: a3f5c8e2d7b1
Revises: eecfb1b85013
Create Date: 2026-12-02 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a3f5c8e2d7b1'
down_revision = 'eecfb1b85013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'quick_replies',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('shortcut', sa.String(length=40), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('owner_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['owner_id'], ['agents.id'], name=op.f('fk_quick_replies_owner_id_agents'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_quick_replies')),
    )
    with op.batch_alter_table('quick_replies', schema=None) as batch_op:
        batch_op.create_index('uq_quick_replies_shared_shortcut', ['shortcut'], unique=True, sqlite_where=sa.text('owner_id IS NULL'), postgresql_where=sa.text('owner_id IS NULL'))
        batch_op.create_index('uq_quick_replies_personal_shortcut', ['owner_id', 'shortcut'], unique=True, sqlite_where=sa.text('owner_id IS NOT NULL'), postgresql_where=sa.text('owner_id IS NOT NULL'))


def downgrade():
    op.drop_table('quick_replies')
