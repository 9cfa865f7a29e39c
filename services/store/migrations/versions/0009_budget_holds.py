"""budget holds: work under way holds its maximum cost against the owner's monthly budget

Revision ID: 0009
Revises: 0008

`budgets` gains the figures the one-statement reservation compares (this month's spend and
what work under way holds), `budget_holds` says who holds what (so a crashed job's hold can be
released) and `jobs` keeps a unit's token maximum (its cost maximum is estimated_cost / units).
"""

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # DuckDB cannot add a column with a NOT NULL constraint; the defaults fill old rows.
    for name, kind in (('reserved_cost', sa.Double()), ('reserved_tokens', sa.BigInteger()),
                       ('spent_cost', sa.Double()), ('spent_tokens', sa.BigInteger())):
        op.add_column('budgets', sa.Column(name, kind, nullable=True, server_default='0'))
    op.add_column('budgets', sa.Column('spent_month', sa.DateTime(), nullable=True))
    op.add_column('jobs', sa.Column('unit_max_tokens', sa.BigInteger(), nullable=True,
                                    server_default='0'))
    op.execute(sa.schema.CreateSequence(sa.Sequence('budget_holds_id_seq')))
    op.create_table('budget_holds',
    sa.Column('id', sa.Integer(), server_default=sa.text("nextval('budget_holds_id_seq')"),
              nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=True),
    sa.Column('units', sa.Integer(), nullable=False),
    sa.Column('unit_cost', sa.Double(), nullable=False),
    sa.Column('unit_tokens', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_budget_holds_username', 'budget_holds', ['username'])
    op.create_index('ix_budget_holds_job_id', 'budget_holds', ['job_id'])


def downgrade() -> None:
    op.drop_index('ix_budget_holds_job_id', table_name='budget_holds')
    op.drop_index('ix_budget_holds_username', table_name='budget_holds')
    op.drop_table('budget_holds')
    op.execute(sa.schema.DropSequence(sa.Sequence('budget_holds_id_seq')))
    op.drop_column('jobs', 'unit_max_tokens')
    for name in ('spent_month', 'spent_tokens', 'spent_cost', 'reserved_tokens',
                 'reserved_cost'):
        op.drop_column('budgets', name)
