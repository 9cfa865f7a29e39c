"""runs.cache_write_1h_tokens and runs.cache_saving; budgets.monthly_tokens as BIGINT

1-hour cache writes cost 2× the input price (5-minute ones 1.25×), so they need their own
count; the US$ caching saved is kept per call like its cost. A monthly token budget may be
up to 10 billion, past a 32-bit integer.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # DuckDB cannot add a column with a NOT NULL constraint; the default fills old rows.
    op.add_column('runs', sa.Column('cache_write_1h_tokens', sa.BigInteger(), nullable=True,
                                    server_default='0'))
    op.add_column('runs', sa.Column('cache_saving', sa.Double(), nullable=True,
                                    server_default='0'))
    op.alter_column('budgets', 'monthly_tokens', type_=sa.BigInteger(),
                    existing_type=sa.Integer(), existing_nullable=True)


def downgrade() -> None:
    op.alter_column('budgets', 'monthly_tokens', type_=sa.Integer(),
                    existing_type=sa.BigInteger(), existing_nullable=True)
    op.drop_column('runs', 'cache_saving')
    op.drop_column('runs', 'cache_write_1h_tokens')
