"""The one exception tree. Every error a client may see carries an HTTP code."""


class RadarError(Exception):
    code = 500
    message = "An unknown error occurred."

    def __init__(self, message=None, **kwargs):
        if message is None:
            message = self.message % kwargs if kwargs else self.message
        self.kwargs = kwargs
        super().__init__(message)


class Invalid(RadarError):
    code = 400
    message = "Invalid input."


class NotAuthorized(RadarError):
    code = 401
    message = "Not authorized."


class Forbidden(RadarError):
    code = 403
    message = "Forbidden."


class NotFound(RadarError):
    code = 404
    message = "Not found."


class Conflict(RadarError):
    code = 409
    message = "Conflict."


class ConfigError(RadarError):
    """Bad configuration: reported in one line at start-up."""


class SourceError(RadarError):
    """A collector could not read its source (network, HTTP status, framing)."""


class RecordError(RadarError):
    """One input record cannot be read; it is logged and skipped."""
