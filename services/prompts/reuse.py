"""Where "a result is reused" is decided: an enrichment's stored results, looked up by
(template, template version, model, input key).

The store is the job model itself: an enrich job's unit key is the hash of its filled-in
input values (`enrich.input_key`), and the job row records the template version and model.
A succeeded unit of any enrich job with the same template version and model is the stored
result for that input: saved the moment it arrived (by the runner), kept if the job was
cancelled or interrupted, never paid for twice.
"""

import uuid
from typing import Any

from sqlalchemy import select

from services.store.db import session_scope
from services.store.models import Job, JobUnit

KIND = "enrich"


def stored_fields(template_id: int, template_version: int, model: str,
                  keys: set[str]) -> dict[str, dict[str, Any]]:
    """The stored answer (its fields) for each of `keys` that has one; the oldest wins."""
    if not keys:
        return {}
    with session_scope() as session:
        job_ids = list(session.scalars(
            select(Job.id).where(Job.kind == KIND, Job.template_id == template_id,
                                 Job.template_version == template_version,
                                 Job.model == model)))
        if not job_ids:
            return {}
        rows = session.execute(
            select(JobUnit.unit_key, JobUnit.fields)
            .where(JobUnit.job_id.in_(job_ids), JobUnit.status == "succeeded")
            .order_by(JobUnit.id))
        found: dict[str, dict[str, Any]] = {}
        for key, fields in rows:
            if key in keys and key not in found and fields:
                found[key] = dict(fields)
        return found


def stored_keys(template_id: int, template_version: int, model: str,
                keys: set[str]) -> set[str]:
    return set(stored_fields(template_id, template_version, model, keys))


def file_tag() -> str:
    return uuid.uuid4().hex[:12]
