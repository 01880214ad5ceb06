"""quick_replies: an optional attachment (the kept file's path, MIME type, sha256, name and size)

Revision ID: b7d3e9f1a2c5
Revises: d8e2f6a0b3c5
Create Date: 2026-12-02 17:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7d3e9f1a2c5'
down_revision = 'd8e2f6a0b3c5'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('quick_replies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('media_url', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('media_mime_type', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('media_sha256', sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column('media_filename', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('media_size', sa.BigInteger(), nullable=True))


def downgrade():
    with op.batch_alter_table('quick_replies', schema=None) as batch_op:
        batch_op.drop_column('media_size')
        batch_op.drop_column('media_filename')
        batch_op.drop_column('media_sha256')
        batch_op.drop_column('media_mime_type')
        batch_op.drop_column('media_url')
