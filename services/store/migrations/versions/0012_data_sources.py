"""data_sources: databases Research Desk reads from, passwords sealed with the sources key

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(sa.schema.CreateSequence(sa.Sequence('data_sources_id_seq')))
    op.create_table('data_sources',
    sa.Column('id', sa.Integer(), server_default=sa.text("nextval('data_sources_id_seq')"),
              nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('url', sa.String(length=1000), nullable=False),
    sa.Column('password_sealed', sa.Text(), nullable=False),
    sa.Column('schemas', sa.JSON(), nullable=False),
    sa.Column('origin', sa.String(length=16), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name'),
    )


def downgrade() -> None:
    op.drop_table('data_sources')
    op.execute(sa.schema.DropSequence(sa.Sequence('data_sources_id_seq')))
