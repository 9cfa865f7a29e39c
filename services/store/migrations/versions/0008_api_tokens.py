"""api_tokens: personal API tokens (hashed), for scripts and notebooks

Revision ID: 0008
Revises: 0007 (re-chained after merging research)
"""

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(sa.schema.CreateSequence(sa.Sequence('api_tokens_id_seq')))
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), server_default=sa.text("nextval('api_tokens_id_seq')"),
              nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('hint', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=True),
    sa.Column('last_used_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash'),
    )
    op.create_index('ix_api_tokens_username', 'api_tokens', ['username'])


def downgrade() -> None:
    op.drop_index('ix_api_tokens_username', table_name='api_tokens')
    op.drop_table('api_tokens')
    op.execute(sa.schema.DropSequence(sa.Sequence('api_tokens_id_seq')))
