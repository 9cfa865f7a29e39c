"""claude tables

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(sa.schema.CreateSequence(sa.Sequence('conversations_id_seq')))
    op.execute(sa.schema.CreateSequence(sa.Sequence('messages_id_seq')))
    op.execute(sa.schema.CreateSequence(sa.Sequence('runs_id_seq')))
    op.create_table('conversations',
    sa.Column('id', sa.Integer(), server_default=sa.text("nextval('conversations_id_seq')"), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('owner', sa.String(length=64), nullable=False),
    sa.Column('dataset_ids', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('messages',
    sa.Column('id', sa.Integer(), server_default=sa.text("nextval('messages_id_seq')"), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('sql', sa.Text(), nullable=True),
    sa.Column('chart', sa.JSON(), nullable=True),
    sa.Column('result_snapshot', sa.JSON(), nullable=True),
    sa.Column('row_count', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('input_tokens', sa.Integer(), nullable=False),
    sa.Column('output_tokens', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('runs',
    sa.Column('id', sa.Integer(), server_default=sa.text("nextval('runs_id_seq')"), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('feature', sa.String(length=32), nullable=False),
    sa.Column('model', sa.String(length=100), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('input_tokens', sa.Integer(), nullable=False),
    sa.Column('output_tokens', sa.Integer(), nullable=False),
    sa.Column('cache_read_tokens', sa.Integer(), nullable=False),
    sa.Column('cache_write_tokens', sa.Integer(), nullable=False),
    sa.Column('latency_ms', sa.Float(), nullable=False),
    sa.Column('cost_estimate', sa.Float(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('budgets',
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('monthly_tokens', sa.Integer(), nullable=True),
    sa.Column('monthly_cost', sa.Float(), nullable=True),
    sa.Column('updated_by', sa.String(length=64), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('username')
    )


def downgrade() -> None:
    op.drop_table('budgets')
    op.drop_table('runs')
    op.drop_table('messages')
    op.drop_table('conversations')
    op.execute(sa.schema.DropSequence(sa.Sequence('conversations_id_seq')))
    op.execute(sa.schema.DropSequence(sa.Sequence('messages_id_seq')))
    op.execute(sa.schema.DropSequence(sa.Sequence('runs_id_seq')))
