"""PowerOffice Go HTTP client. Pure Python: no Django imports; settings come in as a
``PowerOfficeConfig``. The only package allowed to import an HTTP library."""

from .client import PowerOfficeClient
from .config import PowerOfficeConfig
from .errors import (
    Conflict,
    Forbidden,
    NotFound,
    PowerOfficeError,
    RateLimited,
    Unauthorized,
    Unavailable,
    ValidationError,
)
from .transport import new_session

__all__ = [
    "Conflict",
    "Forbidden",
    "NotFound",
    "PowerOfficeClient",
    "PowerOfficeConfig",
    "PowerOfficeError",
    "RateLimited",
    "Unauthorized",
    "Unavailable",
    "ValidationError",
    "new_session",
]
