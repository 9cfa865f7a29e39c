"""rate_counts: API and sign-in limits counted in the store, shared by every server

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rate_counts',
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('hits', sa.Integer(), nullable=False),
    sa.Column('expires_at', sa.Double(), nullable=False),  # not Float: DuckDB's is 4 bytes
    sa.PrimaryKeyConstraint('subject'),
    )


def downgrade() -> None:
    op.drop_table('rate_counts')
