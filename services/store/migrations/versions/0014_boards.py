"""boards, board_tiles, board_views: dashboards of tiles and who last saw which versions

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(sa.schema.CreateSequence(sa.Sequence('boards_id_seq')))
    op.execute(sa.schema.CreateSequence(sa.Sequence('board_tiles_id_seq')))
    op.create_table('boards',
    sa.Column('id', sa.Integer(), server_default=sa.text("nextval('boards_id_seq')"),
              nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('owner', sa.String(length=64), nullable=False),
    sa.Column('visibility', sa.String(length=16), nullable=False),
    sa.Column('columns', sa.Integer(), nullable=False),
    sa.Column('layout_version', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    )
    op.create_table('board_tiles',
    sa.Column('id', sa.Integer(), server_default=sa.text("nextval('board_tiles_id_seq')"),
              nullable=False),
    sa.Column('board_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('dataset_id', sa.Integer(), nullable=True),
    sa.Column('dataset_version', sa.Integer(), nullable=True),
    sa.Column('spec', sa.JSON(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_board_tiles_board_id', 'board_tiles', ['board_id'])
    op.create_table('board_views',
    sa.Column('board_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('seen_at', sa.DateTime(), nullable=False),
    sa.Column('versions', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('board_id', 'username'),
    )


def downgrade() -> None:
    op.drop_table('board_views')
    op.drop_index('ix_board_tiles_board_id', table_name='board_tiles')
    op.drop_table('board_tiles')
    op.drop_table('boards')
    op.execute(sa.schema.DropSequence(sa.Sequence('board_tiles_id_seq')))
    op.execute(sa.schema.DropSequence(sa.Sequence('boards_id_seq')))
