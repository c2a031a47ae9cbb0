"""/v1/changes/{number}: the pipeline view of one change."""

from radar.api.v1 import base, types
from radar.common import exception
from radar.db import api as db_api


class ChangesController(base.Resource):
    routes = (("GET", ("*",), "get_one"),)

    @base.expose(types.ChangeView, types.text, types.text)
    def get_one(self, number, source=None):
        number = base.parse_int("number", number, minimum=1, maximum=2**31 - 1)
        source = base.parse_text("source", source, max_length=64)
        found = db_api.change_get(base.session(), number, source=source)
        if not found:
            raise base.not_found("Change", number)
        if len(found) > 1:
            raise exception.Conflict(
                "Change %d exists on several sources (%s): choose one with the "
                "'source' argument" % (number, ", ".join(c["source"] for c in found)))
        change = found[0]
        patchsets = []
        for ps in change["patchsets"]:
            patchsets.append(types.PatchsetView.from_dict(
                ps, rechecks=[types.Recheck.from_dict(r) for r in ps["rechecks"]],
                reports=[types.Report.from_dict(r) for r in ps["reports"]]))
        return types.ChangeView.from_dict(change, patchsets=patchsets)
