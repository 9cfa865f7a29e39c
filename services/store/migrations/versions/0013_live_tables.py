"""live_tables: datasets whose rows stay in a data source's table or view

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('live_tables',
    sa.Column('dataset_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('schema_name', sa.String(length=200), nullable=False),
    sa.Column('table_name', sa.String(length=200), nullable=False),
    sa.Column('read_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('dataset_id'),
    )
    op.create_index('ix_live_tables_source_id', 'live_tables', ['source_id'])


def downgrade() -> None:
    op.drop_index('ix_live_tables_source_id', table_name='live_tables')
    op.drop_table('live_tables')
