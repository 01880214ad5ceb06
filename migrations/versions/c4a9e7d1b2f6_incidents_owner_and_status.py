"""incidents.status, owner_id, resolved_at: incidents are owned and resolved

Revision ID: c4a9e7d1b2f6
Revises: 8d2e4b6a1f93
Create Date: 2026-12-02 08:15:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4a9e7d1b2f6'
down_revision = '8d2e4b6a1f93'
branch_labels = None
depends_on = None

INCIDENT_STATUS = sa.Enum('open', 'resolved', name='incident_status', length=20)


def upgrade():
    # add_column does not create a PostgreSQL enum type (no-op on SQLite).
    INCIDENT_STATUS.create(op.get_bind(), checkfirst=True)
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', INCIDENT_STATUS, server_default='open', nullable=False))
        batch_op.add_column(sa.Column('owner_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.add_column(sa.Column('resolved_at', sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_incidents_owner_id'), ['owner_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_incidents_owner_id_agents'), 'agents', ['owner_id'], ['id'])


def downgrade():
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_incidents_owner_id_agents'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_incidents_owner_id'))
        batch_op.drop_column('resolved_at')
        batch_op.drop_column('owner_id')
        batch_op.drop_column('status')
    INCIDENT_STATUS.drop(op.get_bind(), checkfirst=True)
