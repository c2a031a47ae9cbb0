"""The v1 API: one controller per resource, wired here."""

import json

import pecan

from radar.api.v1 import base, types
from radar.api.v1.changes import ChangesController
from radar.api.v1.collector import CollectorController
from radar.api.v1.compare import CompareController
from radar.api.v1.deployments import DeploymentsController
from radar.api.v1.dora import DoraController
from radar.api.v1.events import EventsController, EventsFeedController
from radar.api.v1.operators import OperatorsController
from radar.api.v1.projects import ProjectsController
from radar.api.v1.releases import ReleasesController
from radar.api.v1.reports import ReportsController
from radar.api.v1.subscriptions import SubscriptionsController
from radar.api.v1.systems import SystemsController
from radar.common import exception

RESOURCES = ("systems", "projects", "changes", "reports", "operators", "compare",
             "collector", "releases", "deployments", "dora", "events", "subscriptions")


class V1Controller(base.Resource):
    routes = (
        ("GET", (), "document"),
        ("GET", ("openapi.json",), "openapi"),
    )

    def __init__(self):
        self.children = {
            "systems": SystemsController(),
            "projects": ProjectsController(),
            "changes": ChangesController(),
            "reports": ReportsController(),
            "operators": OperatorsController(),
            "compare": CompareController(),
            "collector": CollectorController(),
            "deployments": DeploymentsController(),
            "dora": DoraController(),
            "releases": ReleasesController(),
            "events": EventsController(),
            "events.atom": EventsFeedController(),
            "subscriptions": SubscriptionsController(),
        }

    @base.expose(types.V1Document)
    def document(self):
        host = pecan.request.host_url.rstrip("/")
        links = [types.Link(rel="self", href=host + "/v1/"),
                 types.Link(rel="describedby", href=host + "/v1/openapi.json")]
        links += [types.Link(rel=name, href="%s/v1/%s" % (host, name)) for name in RESOURCES]
        return types.V1Document(id="v1", status="CURRENT", links=links)

    @pecan.expose(content_type="application/json")
    def openapi(self, **kwargs):
        from radar.api import openapi

        try:
            base.check_arguments(kwargs, ())
        except exception.RadarError as error:
            return base.plain_error(error)
        pecan.response.headers["Cache-Control"] = "public, max-age=3600"
        return json.dumps(openapi.document(pecan.request.host_url))

    @pecan.expose()
    def _route(self, args, request):
        parts = [p for p in args if p != ""]
        if parts and parts[0] in self.children:
            return self.children[parts[0]]._route(args[1:], request)
        return super()._route(args, request)
