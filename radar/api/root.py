"""The root: version document at "/", the v1 API under "/v1".

"/" answers the version document to every API client. The web client will
be mounted at "/" later: a browser navigation (Accept preferring
text/html) will then get its page, while JSON clients, curl and monitoring
keep getting this document. Until then "/" is the version document for
everyone.
"""

import pecan

import radar
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

    @base.expose(types.VersionDocument)
    def version(self):
        return version_document()

    @pecan.expose()
    def _route(self, args, request):
        parts = [p for p in args if p != ""]
        if parts and parts[0] == "v1":
            return self.v1._route(args[1:], request)
        return super()._route(args, request)

