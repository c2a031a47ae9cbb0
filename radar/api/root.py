"""The root: version document at "/", the v1 API under "/v1".

"/" answers the web client's page (radar/webclient/index.html) to a
browser navigation, and the version document to every API client: JSON
clients, curl and monitoring, whatever their Accept header. The page's
files are under "/static" (radar.api.static).
"""

import pecan

import radar
from radar.api import static
from radar.api.v1 import V1Controller, base, types

DESCRIPTION = "radar: CI health statistics from Gerrit review traffic"


def _host_url():
    return pecan.request.host_url.rstrip("/")


def version_document():
    host = _host_url()
    return types.VersionDocument(
        name="radar", description=DESCRIPTION, version=radar.__version__,
        versions=[types.ApiVersion(id="v1", status="CURRENT", links=[
            types.Link(rel="self", href=host + "/v1/"),
            types.Link(rel="describedby", href=host + "/v1/openapi.json"),
        ])])


class RootController(base.Resource):
    routes = (
        ("GET", (), "version"),
    )

    v1 = V1Controller()
    webclient = static.StaticController()

    @base.expose(types.VersionDocument)
    def version(self):
        return version_document()

    @pecan.expose()
    def _route(self, args, request):
        parts = [p for p in args if p != ""]
        if parts and parts[0] == "v1":
            return self.v1._route(args[1:], request)
        if parts and parts[0] == "static":
            return self.webclient.file, parts[1:]
        if not parts and request.method in ("GET", "HEAD") and \
                static.is_navigation(request.environ):
            return self.webclient.index, []
        return super()._route(args, request)

