"""inbox sort index on coalesce(last_message_at, created_at), id

Revision ID: 887adaff542a
Revises: 2cb93751e4de
Create Date: 2026-11-25 15:39:34.221714

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '887adaff542a'
down_revision = '2cb93751e4de'
branch_labels = None
depends_on = None


def upgrade():
    # The inbox orders by this expression; a plain (last_message_at, id) index cannot serve it.
    op.create_index(
        "ix_conversations_activity", "conversations", [sa.text("coalesce(last_message_at, created_at)"), "id"]
    )


def downgrade():
    op.drop_index("ix_conversations_activity", table_name="conversations")
