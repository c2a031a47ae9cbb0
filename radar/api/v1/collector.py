"""/v1/collector: per source, how fresh the data is."""

from radar.api import metrics
from radar.api.v1 import base, types
from radar.common import timeutils
from radar.db import api as db_api


class CollectorController(base.Resource):
    routes = (("GET", (), "get_all"),)

    @base.expose([types.CollectorSource])
    def get_all(self):
        now = timeutils.utcnow()
        rows = db_api.collector_list(base.session())
        out = []
        for row in rows:
            last = row["last_success_at"]
            row["lag_s"] = (now - last).total_seconds() if last else None
            row["stale"] = metrics.collector_is_stale(base.conf(), row, now)
            out.append(types.CollectorSource.from_dict(row))
        base.set_header("X-Total-Count", len(out))
        base.mark_csv(types.CollectorSource.fields())
        return out
