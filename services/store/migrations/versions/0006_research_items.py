"""research items: notes with an optimistic version, their edit history, insight order

Revision ID: 0006
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # DuckDB cannot add a column with a NOT NULL constraint; defaults fill the old rows.
    op.add_column('research_items', sa.Column('notes', sa.Text(), nullable=True,
                                              server_default=''))
    op.add_column('research_items', sa.Column('notes_version', sa.Integer(), nullable=True,
                                              server_default='0'))
    op.add_column('research_items', sa.Column('notes_updated_by', sa.String(length=64),
                                              nullable=True))
    op.add_column('research_items', sa.Column('notes_updated_at', sa.DateTime(),
                                              nullable=True))
    op.add_column('insights', sa.Column('position', sa.Integer(), nullable=True))
    op.execute(sa.schema.CreateSequence(sa.Sequence('research_notes_id_seq')))
    op.create_table('research_notes',
    sa.Column('id', sa.Integer(), server_default=sa.text("nextval('research_notes_id_seq')"),
              nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('author', sa.String(length=64), nullable=False),
    sa.Column('added', sa.Integer(), nullable=False),
    sa.Column('removed', sa.Integer(), nullable=False),
    sa.Column('conflict', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )


def downgrade() -> None:
    op.drop_table('research_notes')
    op.execute(sa.schema.DropSequence(sa.Sequence('research_notes_id_seq')))
    op.drop_column('insights', 'position')
    op.drop_column('research_items', 'notes_updated_at')
    op.drop_column('research_items', 'notes_updated_by')
    op.drop_column('research_items', 'notes_version')
    op.drop_column('research_items', 'notes')
