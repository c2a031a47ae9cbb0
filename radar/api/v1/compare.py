"""/v1/compare?systems=a,b,c: side by side over the same window, with agreement."""

from radar.api.v1 import base, types
from radar.db import api as db_api

MAX_SYSTEMS = 20


def stats():
    from radar.stats import systems

    return systems


class CompareController(base.Resource):
    routes = (("GET", (), "get_all"),)

    @base.expose(types.Comparison, types.text, types.text, types.text, types.text)
    def get_all(self, systems=None, since=None, until=None, project=None):
        names = base.parse_list("systems", systems, max_items=MAX_SYSTEMS)
        if not names:
            raise base.invalid("systems", "a comma-separated list of CI system ids or "
                                          "names is required")
        window = base.parse_window(since, until)
        project = base.parse_text("project", project)
        ids = []
        for name in names:
            row = db_api.system_get(base.session(), name)
            if row is None:
                raise base.invalid("systems", "no CI system %r" % name[:80])
            if row["id"] not in ids:
                ids.append(row["id"])
        result = stats().compare(base.session(), base.conf(), ids, window, project=project)
        return types.Comparison.from_dict(result)
