"""/v1/sources: the data sources (outside databases) live datasets read from, for admins.

Admins manage sources (services.access: `manage_sources`), so only they list them here: the
database, host, port and user of each, and never a password. Everyone else sees, on each
live dataset, the source's name and the table it reads.
"""

from fastapi import APIRouter

from services.access.permissions import can
from services.api.auth import Caller
from services.api.problems import COMMON_RESPONSES
from services.api.schemas import SourceOut
from services.errors import PermissionDenied
from services.sources import catalog

router = APIRouter(prefix="/sources", tags=["sources"], responses=COMMON_RESPONSES)

MSG_ADMINS_ONLY = ("Only admins can list the data sources; a live dataset says which source "
                   "and table it reads.")


@router.get("", summary="List data sources (admins)", response_model=list[SourceOut])
def list_sources(user: Caller) -> list[SourceOut]:
    """Every data source by name: where it is (database on host:port as user), which
    schemas may be read, and whether an admin added it or the secrets file defines it."""
    if not can(user.role, "manage_sources"):
        raise PermissionDenied(MSG_ADMINS_ONLY)
    return [SourceOut.of(source) for source in catalog.list_sources(user)]
