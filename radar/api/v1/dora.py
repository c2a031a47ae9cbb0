"""/v1/dora: the four DORA metrics of production deployments (radar.stats.dora)."""

import datetime as dt

import pecan

from radar.api.v1 import base, types
from radar.common import timeutils
from radar.stats import dora
from radar.stats.window import Window


def _window(since, until):
    """As base.parse_window, but by default the last [dora] default_window_days."""
    conf = base.conf()
    until_t = base.parse_time("until", until)
    since_t = base.parse_time("since", since)
    if until_t is None:
        until_t = pecan.request.environ.get("radar.default_until") or timeutils.utcnow()
    if since_t is None:
        since_t = until_t - dt.timedelta(days=conf.dora.default_window_days)
    if since_t >= until_t:
        raise base.invalid("until", "must be later than since")
    if until_t - since_t > dt.timedelta(days=conf.api.max_window_days):
        raise base.invalid("since", "the window may cover at most %d days"
                           % conf.api.max_window_days)
    return Window(since_t, until_t)


class DoraController(base.Resource):
    routes = (("GET", (), "get_all"),)

    @base.expose(types.DoraReport, types.text, types.text, types.text, types.text)
    def get_all(self, service=None, environment=None, since=None, until=None):
        service = base.parse_text("service", service)
        environment = base.parse_text("environment", environment, max_length=64)
        window = _window(since, until)
        metrics = dora.dora_metrics(base.session(), base.conf(), window, service=service,
                                    environment=environment)
        return types.DoraReport(
            service=service, environment=environment, since=window.since,
            until=window.until, metrics=[types.DoraMetric.from_dict(m) for m in metrics])
