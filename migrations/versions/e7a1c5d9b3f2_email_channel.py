"""the e-mail channel: contacts.phone nullable (e-mail-only contacts; still unique when present),
contacts.email indexed, email_receipts (each fetched mail's UID and Message-ID)

Revision ID: e7a1c5d9b3f2
Revises: a3f5c8e2d7b1
Create Date: 2026-12-02 13:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e7a1c5d9b3f2'
down_revision = 'a3f5c8e2d7b1'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.alter_column('phone', existing_type=sa.String(length=32), nullable=True)
        batch_op.create_index(batch_op.f('ix_contacts_email'), ['email'], unique=False)
    op.create_table(
        'email_receipts',
        sa.Column('id', BigId, nullable=False),
        sa.Column('inbox_id', BigId, nullable=False),
        sa.Column('folder', sa.String(length=200), nullable=False),
        sa.Column('uidvalidity', sa.BigInteger(), nullable=False),
        sa.Column('uid', sa.BigInteger(), nullable=False),
        sa.Column('message_id_header', sa.String(length=255), nullable=True),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('event_id', BigId, nullable=True),
        sa.Column('fetched_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['event_id'], ['webhook_events.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['inbox_id'], ['inboxes.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('inbox_id', 'folder', 'uidvalidity', 'uid', name='uq_email_receipts_uid'),
    )


def downgrade():
    op.drop_table('email_receipts')
    # E-mail-only contacts have no phone to keep the column NOT NULL with: they go first.
    op.execute("DELETE FROM contacts WHERE phone IS NULL AND id NOT IN (SELECT contact_id FROM conversations)")
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contacts_email'))
        batch_op.alter_column('phone', existing_type=sa.String(length=32), nullable=False)
