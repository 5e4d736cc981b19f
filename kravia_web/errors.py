"""The one application error type: pages show it as a message, the API as one JSON shape."""


class ApplicationError(Exception):
    """A business rule said no. ``message`` is safe to show to the user (already translated)."""

    def __init__(self, message: str, *, extra: dict | None = None):
        super().__init__(message)
        self.message = message
        self.extra = extra or {}
