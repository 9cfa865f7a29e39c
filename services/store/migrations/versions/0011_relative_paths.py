"""dataset files stored relative to the data folder (versions and Claude's results files)

Rows written before kept the path as the app wrote it (absolute, or relative to the working
folder when RESEARCH_DESK_DATA_DIR was relative). Those under the data folder this migration
runs with become relative to it; any other is left as it was and logged (it is not opened).

Revision ID: 0011
Revises: 0010
"""

import logging
import os
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import op

from services.data import data_folder

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

log = logging.getLogger(__name__)

_versions = sa.table(
    'dataset_versions',
    sa.column('dataset_id', sa.Integer), sa.column('version', sa.Integer),
    sa.column('parquet_path', sa.String), sa.column('recipe', sa.JSON),
)


def _relative(old: str, where: str) -> str:
    absolute = Path(os.path.abspath(old))  # an old relative path was relative to the cwd
    if not data_folder.is_inside(absolute):
        log.warning("a stored path outside the data folder was left as it is",
                    extra={"path": old, "row": where, "data_folder": str(data_folder.root())})
        return old
    return data_folder.stored(absolute)


def _absolute(stored: str, where: str) -> str:
    return str(data_folder.resolve(stored)) if data_folder.is_inside(stored) else stored


def _rewrite(convert: Any) -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.select(_versions)).all()
    for row in rows:
        where = f"dataset {row.dataset_id} version {row.version}"
        path = convert(row.parquet_path, where)
        recipe = [
            {**step, "results_file": convert(step["results_file"], where)}
            if isinstance(step, dict) and isinstance(step.get("results_file"), str) else step
            for step in row.recipe or []
        ] if row.recipe is not None else None
        if path == row.parquet_path and recipe == row.recipe:
            continue
        connection.execute(
            sa.update(_versions)
            .where(_versions.c.dataset_id == row.dataset_id,
                   _versions.c.version == row.version)
            .values(parquet_path=path, recipe=recipe))


def upgrade() -> None:
    _rewrite(_relative)


def downgrade() -> None:
    _rewrite(_absolute)
