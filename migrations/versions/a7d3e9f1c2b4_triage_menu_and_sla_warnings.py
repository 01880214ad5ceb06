"""the triage menu (team keywords, the awaited choice on conversations) and SLA warnings

Revision ID: a7d3e9f1c2b4
Revises: f1a2b3c4d5e6
Create Date: 2026-12-02 17:00:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "a7d3e9f1c2b4"
down_revision = "f1a2b3c4d5e6"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("teams", schema=None) as batch_op:
        batch_op.add_column(sa.Column("keywords", sa.JSON(), nullable=True))
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("triage_asked_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("triage_retries", sa.Integer(), server_default="0", nullable=False))
        batch_op.create_index("ix_conversations_triage_asked_at", ["triage_asked_at"], unique=False)
    with op.batch_alter_table("sla_metrics", schema=None) as batch_op:
        batch_op.add_column(sa.Column("first_response_warned_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("resolution_warned_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("sla_metrics", schema=None) as batch_op:
        batch_op.drop_column("resolution_warned_at")
        batch_op.drop_column("first_response_warned_at")
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_index("ix_conversations_triage_asked_at")
        batch_op.drop_column("triage_retries")
        batch_op.drop_column("triage_asked_at")
    with op.batch_alter_table("teams", schema=None) as batch_op:
        batch_op.drop_column("keywords")
