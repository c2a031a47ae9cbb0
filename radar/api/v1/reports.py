"""/v1/reports: every CI report, newest first, with filters."""

from radar.api.v1 import base, types
from radar.api.v1.systems import list_reports
from radar.db import api as db_api


class ReportsController(base.Resource):
    routes = (("GET", (), "get_all"),)

    @base.expose([types.Report], types.text, types.text, types.text, types.text, types.text,
                 types.text, types.text, types.text, types.text)
    def get_all(self, system=None, project=None, change=None, result=None, pipeline=None,
                since=None, until=None, limit=None, marker=None):
        system = base.parse_text("system", system)
        system_id = None
        if system is not None:
            row = db_api.system_get(base.session(), system)
            # A filter that matches nothing gives an empty list, not a 404.
            system_id = row["id"] if row is not None else -1
        return list_reports(system_id=system_id, since=since, until=until, project=project,
                            result=result, pipeline=pipeline, change=change, limit=limit,
                            marker=marker)
