"""Prompt templates: text with `{variables}`, checked settings, an optional output shape, and
versions (every edit makes a new one, so a run always records exactly what it sent).

`{name}` is filled from an item's fields or a dataset row's columns; `{{` and `}}` write a brace
itself. Filling never evaluates anything: it is a plain lookup by name. An output shape is a
list of named, typed fields that becomes the tool schema Claude must answer with.
"""

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from services.access.permissions import Role, require
from services.access.users import UserView
from services.errors import InvalidInput, NotFound, PermissionDenied
from services.settings import get_settings
from services.store.db import session_scope
from services.store.models import PromptTemplate, PromptTemplateVersion, utcnow

FieldType = Literal["text", "number", "category", "yes_no"]
FIELD_TYPE_LABELS: dict[str, str] = {"text": "text", "number": "number",
                                     "category": "category from a list", "yes_no": "yes/no"}
MIN_MAX_TOKENS = 1
MAX_MAX_TOKENS = 64_000
MAX_FIELDS = 20
MAX_BODY_CHARS = 100_000
OUTPUT_TOOL = "record_answer"
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}\n]{1,120})\}")
_FIELD_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_ ]{0,59}$")


class OutputField(BaseModel):
    name: str
    type: FieldType = "text"
    choices: list[str] = []
    description: str = ""


class TemplateDraft(BaseModel):
    name: str
    body: str
    system_prompt: str = ""
    model: str = ""
    temperature: float = 1.0
    max_tokens: int = 1024
    output_fields: list[OutputField] = []


class TemplateVersionView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    template_id: int
    version: int
    name: str = ""
    system_prompt: str
    body: str
    model: str
    temperature: float
    max_tokens: int
    output_fields: list[OutputField]
    created_by: str
    created_at: datetime

    @property
    def variables(self) -> list[str]:
        return variables_in(self.body)


class TemplateView(BaseModel):
    id: int
    name: str
    owner: str
    current_version: int
    created_at: datetime
    updated_at: datetime
    latest: TemplateVersionView


class ShapeMismatch(InvalidInput):
    """Claude's reply did not follow the template's output shape (the reason is the message)."""


# --- filling ---------------------------------------------------------------------------

def variables_in(body: str) -> list[str]:
    """The `{variables}` a template uses, in order of first use, each once."""
    names: list[str] = []
    for match in _TOKEN.finditer(body):
        name = match.group(1)
        if name is not None and name.strip() not in names:
            names.append(name.strip())
    return names


def check_variables(body: str, known: list[str]) -> None:
    """`InvalidInput` naming the first unknown `{variable}` and listing the known ones."""
    unknown = [name for name in variables_in(body) if name not in known]
    if not unknown:
        return
    offered = ", ".join(f"{{{k}}}" for k in known) or "none"
    raise InvalidInput(
        f"The template uses {{{unknown[0]}}}, which is not known here. Known variables: "
        f"{offered}. To write a brace itself, type {{{{ or }}}}.")


def fill(body: str, values: dict[str, Any]) -> str:
    """The template with every `{variable}` replaced by its value as text (missing → "")."""
    check_variables(body, list(values))

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        value = values.get(match.group(1).strip())
        return "" if value is None else str(value)

    return _TOKEN.sub(replace, body)


def fill_parts(body: str, values: dict[str, Any]) -> tuple[str, str]:
    """`fill` in two parts that join to the same text: the fixed text before the first
    `{variable}` (the same for every row, so it can be a cached prefix) and the rest."""
    start = _first_variable(body)
    return fill(body[:start], {}), fill(body[start:], values)


def fixed_text(body: str) -> str:
    """The filled text before the first `{variable}`: the first part of `fill_parts`."""
    return fill(body[:_first_variable(body)], {})


def _first_variable(body: str) -> int:
    first = next((m for m in _TOKEN.finditer(body) if m.group(1) is not None), None)
    return len(body) if first is None else first.start()


# --- checking --------------------------------------------------------------------------

def check_draft(draft: TemplateDraft) -> TemplateDraft:
    """The draft tidied, or `InvalidInput` with one sentence saying what to change."""
    name = draft.name.strip()
    if not name:
        raise InvalidInput("Give the template a name.")
    if len(name) > 200:
        raise InvalidInput("Keep the template's name under 200 characters.")
    if not draft.body.strip():
        raise InvalidInput("The template is empty: write the prompt Claude should answer.")
    if len(draft.body) > MAX_BODY_CHARS or len(draft.system_prompt) > MAX_BODY_CHARS:
        raise InvalidInput(f"Keep the template under {MAX_BODY_CHARS:,} characters.")
    if not MIN_MAX_TOKENS <= draft.max_tokens <= MAX_MAX_TOKENS:
        raise InvalidInput(
            f"Maximum answer length must be between {MIN_MAX_TOKENS} and {MAX_MAX_TOKENS:,} "
            "tokens.")
    if not 0.0 <= draft.temperature <= 1.0:
        raise InvalidInput("Temperature must be between 0 (focused) and 1 (varied).")
    model = draft.model.strip() or get_settings().model
    return draft.model_copy(update={"name": name, "model": model,
                                    "output_fields": check_fields(draft.output_fields)})


def check_fields(fields: list[OutputField]) -> list[OutputField]:
    if len(fields) > MAX_FIELDS:
        raise InvalidInput(f"An output shape can have at most {MAX_FIELDS} fields.")
    seen: set[str] = set()
    tidy = []
    for field in fields:
        name = field.name.strip()
        if not _FIELD_NAME.match(name):
            raise InvalidInput(
                f"The output field name “{name}” must start with a letter and use only "
                "letters, digits, spaces and underscores (at most 60).")
        if name.lower() in seen:
            raise InvalidInput(f"Two output fields are called “{name}”; give each its own name.")
        seen.add(name.lower())
        choices = [c.strip() for c in field.choices if c.strip()]
        if field.type == "category" and len(set(choices)) < 2:
            raise InvalidInput(f"The category field “{name}” needs at least two choices.")
        unique = list(dict.fromkeys(choices))
        tidy.append(field.model_copy(update={"name": name, "choices": unique}))
    return tidy


# --- output shape ------------------------------------------------------------------------

def output_tool(fields: list[OutputField]) -> dict[str, Any] | None:
    """The tool Claude must call to answer in this shape; None for a plain text answer."""
    if not fields:
        return None
    properties: dict[str, Any] = {}
    for field in fields:
        schema: dict[str, Any]
        if field.type == "number":
            schema = {"type": "number"}
        elif field.type == "yes_no":
            schema = {"type": "boolean"}
        elif field.type == "category":
            schema = {"type": "string", "enum": list(field.choices)}
        else:
            schema = {"type": "string"}
        if field.description:
            schema["description"] = field.description
        properties[field.name] = schema
    return {"name": OUTPUT_TOOL, "description": "Record the answer in the requested fields.",
            "input_schema": {"type": "object", "properties": properties,
                             "required": [f.name for f in fields]}}


def check_output(fields: list[OutputField], data: dict[str, Any]) -> dict[str, Any]:
    """Claude's fields, checked against the shape; `ShapeMismatch` says what was wrong."""
    result: dict[str, Any] = {}
    for field in fields:
        if field.name not in data or data[field.name] is None:
            raise ShapeMismatch(f"Claude's answer left out the field “{field.name}”.")
        value = data[field.name]
        if field.type == "number":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ShapeMismatch(f"Claude's “{field.name}” was not a number ({value!r}).")
        elif field.type == "yes_no":
            if not isinstance(value, bool):
                raise ShapeMismatch(f"Claude's “{field.name}” was not yes or no ({value!r}).")
        elif field.type == "category":
            if value not in field.choices:
                raise ShapeMismatch(
                    f"Claude's “{field.name}” was “{value}”, which is not one of: "
                    f"{', '.join(field.choices)}.")
        elif not isinstance(value, str):
            raise ShapeMismatch(f"Claude's “{field.name}” was not text.")
        result[field.name] = value
    return result


# --- storing -----------------------------------------------------------------------------

def _version_view(template: PromptTemplate, row: PromptTemplateVersion) -> TemplateVersionView:
    view = TemplateVersionView.model_validate(row)
    # The store keeps a float32 (0.2 comes back as 0.2000000029…): two decimals are meant.
    return view.model_copy(update={"name": template.name,
                                   "temperature": round(view.temperature, 2)})


def _template_view(template: PromptTemplate, row: PromptTemplateVersion) -> TemplateView:
    return TemplateView(id=template.id, name=template.name, owner=template.owner,
                        current_version=template.current_version,
                        created_at=template.created_at, updated_at=template.updated_at,
                        latest=_version_view(template, row))


def _new_version(template_id: int, number: int, draft: TemplateDraft,
                 actor: str) -> PromptTemplateVersion:
    return PromptTemplateVersion(
        template_id=template_id, version=number, system_prompt=draft.system_prompt,
        body=draft.body, model=draft.model, temperature=float(draft.temperature),
        max_tokens=int(draft.max_tokens),
        output_fields=[f.model_dump() for f in draft.output_fields],
        created_by=actor, created_at=utcnow())


def create_template(actor: UserView, draft: TemplateDraft) -> TemplateView:
    require(actor.role, "use_claude")
    draft = check_draft(draft)
    with session_scope(write=True) as session:
        template = PromptTemplate(name=draft.name, owner=actor.username, current_version=1,
                                  archived=False, created_at=utcnow(), updated_at=utcnow())
        session.add(template)
        session.flush()
        row = _new_version(template.id, 1, draft, actor.username)
        session.add(row)
        session.flush()
        return _template_view(template, row)


def update_template(actor: UserView, template_id: int, draft: TemplateDraft) -> TemplateView:
    """Saves the edit as a new version; runs that used an older one keep it."""
    require(actor.role, "use_claude")
    draft = check_draft(draft)
    with session_scope(write=True) as session:
        template = _load(session, template_id)
        _require_owner(actor, template)
        number = template.current_version + 1
        row = _new_version(template_id, number, draft, actor.username)
        session.add(row)
        template.name = draft.name
        template.current_version = number
        template.updated_at = utcnow()
        session.flush()
        return _template_view(template, row)


def archive_template(actor: UserView, template_id: int) -> None:
    require(actor.role, "use_claude")
    with session_scope(write=True) as session:
        template = _load(session, template_id)
        _require_owner(actor, template)
        template.archived = True


def list_templates(actor: UserView) -> list[TemplateView]:
    """The team's templates (everyone may read and run them; owners and admins edit)."""
    with session_scope() as session:
        templates = list(session.scalars(
            select(PromptTemplate).where(PromptTemplate.archived.is_(False))
            .order_by(PromptTemplate.updated_at.desc())))
        result = []
        for template in templates:
            row = session.get(PromptTemplateVersion, (template.id, template.current_version))
            if row is not None:
                result.append(_template_view(template, row))
        return result


def get_version(actor: UserView, template_id: int,
                version: int | None = None) -> TemplateVersionView:
    with session_scope() as session:
        template = _load(session, template_id)
        row = session.get(PromptTemplateVersion, (template_id, version or template.current_version))
        if row is None:
            raise NotFound(f"Version {version} of this template does not exist.")
        return _version_view(template, row)


def list_versions(actor: UserView, template_id: int) -> list[TemplateVersionView]:
    with session_scope() as session:
        template = _load(session, template_id)
        rows = session.scalars(
            select(PromptTemplateVersion).where(PromptTemplateVersion.template_id == template_id)
            .order_by(PromptTemplateVersion.version.desc()))
        return [_version_view(template, r) for r in rows]


def _load(session: Any, template_id: int) -> PromptTemplate:
    template = session.get(PromptTemplate, template_id)
    if template is None or template.archived:
        raise NotFound("That prompt template does not exist (it may have been removed).")
    return template


def _require_owner(actor: UserView, template: PromptTemplate) -> None:
    if template.owner != actor.username and actor.role != Role.ADMIN:
        raise PermissionDenied(
            "Only the person who made this template (or an admin) can change it. Save a copy "
            "under a new name instead.")
