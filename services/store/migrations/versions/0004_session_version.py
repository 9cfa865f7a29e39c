"""users.session_version: sign-out, password changes, resets and disabling revoke cookies

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # DuckDB cannot add a column with a NOT NULL constraint; the default fills old rows.
    op.add_column('users', sa.Column('session_version', sa.Integer(), nullable=True,
                                     server_default='0'))


def downgrade() -> None:
    op.drop_column('users', 'session_version')
