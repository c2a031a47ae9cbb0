"""Pecan hooks: configuration and one database session per request."""

from pecan import hooks


class ConfigHook(hooks.PecanHook):
    """Puts the ConfigOpts on the request (no global configuration)."""

    def __init__(self, conf):
        self.conf = conf

    def on_route(self, state):
        state.request.conf = self.conf


class DBSessionHook(hooks.PecanHook):
    """One session per request, closed (rolled back unless committed) at the end.

    Writes commit explicitly inside the controller, so that a failing
    commit becomes the controller's error, not a 2xx already rendered.
    """

    def __init__(self, sessionmaker):
        self.sessionmaker = sessionmaker

    def on_route(self, state):
        state.request.db = self.sessionmaker()

    def after(self, state):
        self._close(state)

    def on_error(self, state, e):
        self._close(state)

    @staticmethod
    def _close(state):
        session = getattr(state.request, "db", None)
        if session is not None:
            session.close()
            state.request.db = None


class AuthHook(hooks.PecanHook):
    """Every write needs a valid token before its body is even read.

    The token row goes on the request; controllers then ask for the scope
    they need with auth.require().
    """

    WRITES = ("POST", "PUT", "PATCH", "DELETE")

    def before(self, state):
        from radar.api import auth
        from radar.common import exception

        request = state.request
        request.token = None
        if request.method not in self.WRITES:
            return
        try:
            request.token = auth.check(request.db, request.headers.get("Authorization"),
                                       "write")
        except exception.RadarError as error:
            raise auth.http_error(error) from None
