"""/v1/projects and /v1/projects/{name}: names contain '/' (openstack/nova)."""

from radar.api.v1 import base, types
from radar.db import api as db_api

SORTABLE = ("name", "changes", "patchsets")


def stats():
    from radar.stats import systems

    return systems


class ProjectsController(base.Resource):
    routes = (
        ("GET", (), "get_all"),
        # '**': the rest of the path, slashes included, is the name.
        ("GET", ("**",), "get_one"),
    )

    @base.expose([types.ProjectSummary], types.text, types.text, types.text, types.text,
                 types.text, types.text)
    def get_all(self, since=None, until=None, q=None, sort=None, limit=None, marker=None):
        window = base.parse_window(since, until)
        q = base.parse_text("q", q)
        field, descending = base.parse_sort(sort, SORTABLE, "name")
        limit = base.parse_limit(limit)
        marker = base.parse_text("marker", marker)
        items = [types.ProjectSummary.from_dict(p).as_dict()
                 for p in stats().project_summaries(base.session(), base.conf(), window)]
        if q:
            items = [i for i in items if q.lower() in (i.get("name") or "").lower()]
        items = base.sort_items(items, field, descending)
        page = base.paginate(items, limit, marker, key="name")
        base.mark_csv(types.ProjectSummary.fields())
        return [types.ProjectSummary.from_dict(i) for i in page]

    @base.expose(types.ProjectSummary, types.text, types.text, types.text)
    def get_one(self, name, since=None, until=None):
        name = base.parse_text("name", name, required=True)
        window = base.parse_window(since, until)
        if not db_api.project_exists(base.session(), name):
            raise base.not_found("Project", name)
        found = [p for p in stats().project_summaries(base.session(), base.conf(), window,
                                                      project=name)
                 if p.get("name") == name]
        if not found:
            return types.ProjectSummary(name=name, systems=[])
        return types.ProjectSummary.from_dict(found[0])
