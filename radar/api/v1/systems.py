"""/v1/systems: CI systems, their numbers, series, misses, jobs, reports, badge."""

import re

import pecan

from radar.api import auth, badge
from radar.api.v1 import base, types
from radar.common import exception
from radar.db import api as db_api

HEALTH_STATES = ("GREEN", "YELLOW", "RED", "SILENT", "UNKNOWN")
RESULTS = ("SUCCESS", "FAILURE", "MERGE_FAILED", "CANCELED", "UNKNOWN")
INTERVALS = ("day", "week")
SORTABLE = [f for f in types.SUMMARY_FIELDS if f not in ("accounts",)]
JOB_SORTABLE = ("name", "runs", "success_rate", "flaky", "median_duration_s", "last_run")
MAX_PROJECTS = 1000


def stats():
    from radar.stats import systems

    return systems


def get_system(ident):
    system = db_api.system_get(base.session(), base.parse_text("id", ident, required=True))
    if system is None:
        raise base.not_found("CI system", ident)
    return system


def _fallback_summary(system, session):
    """A system the statistics left out (e.g. disabled): its identity only."""
    return {"id": system["id"], "name": system["name"],
            "display_name": system["display_name"],
            "accounts": db_api.system_accounts(session, system["id"]),
            "reference": system["reference"], "enabled": system["enabled"],
            "health": "UNKNOWN", "health_reason": "no statistics for this system"}


def system_detail(system, window, project=None):
    session = base.session()
    found = stats().system_summaries(session, base.conf(), window, project=project,
                                     system_ids=[system["id"]])
    summary = found[0] if found else _fallback_summary(system, session)
    settings = types.SystemSettings(
        display_name=system["display_name"], reference=bool(system["reference"]),
        enabled=bool(system["enabled"]), projects=system["projects"],
        recheck_pattern=system["recheck_pattern"])
    operators = [types.Operator.from_dict(o) for o in db_api.system_operators(session,
                                                                              system["id"])]
    return types.SystemDetail.from_dict(summary, origin=system["origin"], settings=settings,
                                        operators=operators)


def _validate_settings(body):
    values = {}
    if types.is_set(body.display_name):
        if body.display_name is None or not body.display_name.strip():
            raise base.invalid("display_name", "must be a non-empty string")
        values["display_name"] = body.display_name.strip()
    for name in ("reference", "enabled"):
        value = getattr(body, name)
        if types.is_set(value):
            if value is None:
                raise base.invalid(name, "must be true or false")
            values[name] = bool(value)
    if types.is_set(body.projects):
        if body.projects is not None:
            if len(body.projects) > MAX_PROJECTS:
                raise base.invalid("projects", "at most %d projects" % MAX_PROJECTS)
            for project in body.projects:
                if not isinstance(project, str) or not project.strip():
                    raise base.invalid("projects", "every project must be a non-empty name")
                base.parse_text("projects", project)
            values["projects"] = sorted(set(p.strip() for p in body.projects))
        else:
            values["projects"] = None
    if types.is_set(body.recheck_pattern):
        pattern = body.recheck_pattern
        if pattern is not None and pattern.strip():
            try:
                re.compile(pattern)
            except (re.error, RecursionError, OverflowError) as e:
                raise base.invalid("recheck_pattern",
                                   "not a valid regular expression (%s)" % str(e)[:80]) from None
            values["recheck_pattern"] = pattern
        else:
            values["recheck_pattern"] = None
    return values


class SystemsController(base.Resource):
    routes = (
        ("GET", (), "get_all"),
        ("GET", ("*",), "get_one"),
        ("PUT", ("*",), "put"),
        ("GET", ("*", "series"), "series"),
        ("GET", ("*", "missed"), "missed"),
        ("GET", ("*", "jobs"), "jobs"),
        ("GET", ("*", "reports"), "reports"),
        ("GET", ("*", "badge.svg"), "badge"),
    )

    @base.expose([types.SystemSummary], types.text, types.text, types.text, types.text,
                 types.text, types.text, types.text, types.text, types.text)
    def get_all(self, since=None, until=None, project=None, q=None, health=None,
                enabled=None, sort=None, limit=None, marker=None):
        window = base.parse_window(since, until)
        project = base.parse_text("project", project)
        q = base.parse_text("q", q)
        health = base.parse_choice("health", health, HEALTH_STATES, upper=True)
        enabled = base.parse_bool("enabled", enabled)
        field, descending = base.parse_sort(sort, SORTABLE, "name")
        limit = base.parse_limit(limit)
        marker = base.parse_int("marker", marker, minimum=0)
        items = stats().system_summaries(base.session(), base.conf(), window, project=project)
        if q:
            needle = q.lower()
            items = [i for i in items if needle in (i.get("name") or "").lower()
                     or needle in (i.get("display_name") or "").lower()]
        if health:
            items = [i for i in items if i.get("health") == health]
        if enabled is not None:
            items = [i for i in items if bool(i.get("enabled")) == enabled]
        items = base.sort_items(items, field, descending)
        page = base.paginate(items, limit, marker)
        base.mark_csv(types.SUMMARY_FIELDS)
        return [types.SystemSummary.from_dict(i) for i in page]

    @base.expose(types.SystemDetail, types.text, types.text, types.text, types.text)
    def get_one(self, ident, since=None, until=None, project=None):
        window = base.parse_window(since, until)
        project = base.parse_text("project", project)
        return system_detail(get_system(ident), window, project)

    @base.expose(types.SystemDetail, types.text, body=types.SystemSettings)
    def put(self, ident, body):
        session = base.session()
        auth.require("admin")
        system = get_system(ident)
        values = _validate_settings(body)
        db_api.system_update(session, system["id"], values)
        session.commit()
        return system_detail(db_api.system_get(session, system["id"]),
                             base.parse_window(None, None))

    @base.expose([types.SeriesPoint], types.text, types.text, types.text, types.text,
                 types.text)
    def series(self, ident, since=None, until=None, interval=None, project=None):
        window = base.parse_window(since, until)
        project = base.parse_text("project", project)
        interval = base.parse_choice("interval", interval, INTERVALS) or "day"
        buckets = len(window.buckets(interval))
        if buckets > base.conf().api.max_series_points:
            raise base.invalid("interval", "the window holds %d %ss, more than the %d a "
                                           "series may have" % (
                                               buckets, interval,
                                               base.conf().api.max_series_points))
        system = get_system(ident)
        points = stats().system_series(base.session(), base.conf(), system["id"], window,
                                       interval, project=project)
        base.set_header("X-Total-Count", len(points))
        base.mark_csv(["start", "end"] + types.SUMMARY_FIELDS)
        return [types.SeriesPoint.from_dict(p) for p in points]

    @base.expose([types.MissedPatchset], types.text, types.text, types.text, types.text,
                 types.text, types.text)
    def missed(self, ident, since=None, until=None, project=None, limit=None, marker=None):
        window = base.parse_window(since, until)
        project = base.parse_text("project", project)
        limit = base.parse_limit(limit)
        marker = base.parse_text("marker", marker)
        system = get_system(ident)
        items = stats().missed_patchsets(base.session(), base.conf(), system["id"], window,
                                         project=project)
        items = [types.MissedPatchset.from_dict(i).as_dict() for i in items]
        for item in items:
            item["key"] = "%s/%s" % (item.get("change"), item.get("patchset"))
        page = base.paginate(items, limit, marker, key="key")
        base.mark_csv(types.MissedPatchset.fields())
        return [types.MissedPatchset.from_dict(i) for i in page]

    @base.expose([types.JobStat], types.text, types.text, types.text, types.text,
                 types.text, types.text, types.text)
    def jobs(self, ident, since=None, until=None, project=None, sort=None, limit=None,
             marker=None):
        window = base.parse_window(since, until)
        project = base.parse_text("project", project)
        field, descending = base.parse_sort(sort, JOB_SORTABLE, "name")
        limit = base.parse_limit(limit)
        marker = base.parse_text("marker", marker)
        system = get_system(ident)
        items = stats().job_stats(base.session(), base.conf(), system["id"], window,
                                  project=project)
        items = base.sort_items([dict(i) for i in items], field, descending)
        page = base.paginate(items, limit, marker, key="name")
        base.mark_csv(types.JobStat.fields())
        return [types.JobStat.from_dict(i) for i in page]

    @base.expose([types.Report], types.text, types.text, types.text, types.text, types.text,
                 types.text, types.text, types.text, types.text)
    def reports(self, ident, since=None, until=None, project=None, result=None,
                pipeline=None, change=None, limit=None, marker=None):
        system = get_system(ident)
        return list_reports(system_id=system["id"], since=since, until=until,
                            project=project, result=result, pipeline=pipeline,
                            change=change, limit=limit, marker=marker)

    @pecan.expose(content_type="image/svg+xml")
    def badge(self, ident, **kwargs):
        try:
            base.check_arguments(kwargs, ("since", "until", "project"))
            window = base.parse_window(kwargs.get("since"), kwargs.get("until"))
            project = base.parse_text("project", kwargs.get("project"))
            system = get_system(ident)
            found = stats().system_summaries(base.session(), base.conf(), window,
                                             project=project, system_ids=[system["id"]])
        except exception.RadarError as error:
            return base.plain_error(error)
        summary = found[0] if found else _fallback_summary(system, base.session())
        max_age = base.conf().api.badge_max_age
        pecan.response.headers["Cache-Control"] = "public, max-age=%d" % max_age
        return badge.render(summary.get("display_name") or summary.get("name"),
                            summary.get("health"), summary.get("success_rate"))


def list_reports(system_id=None, since=None, until=None, project=None, result=None,
                 pipeline=None, change=None, limit=None, marker=None):
    window = base.parse_window(since, until)
    project = base.parse_text("project", project)
    result = base.parse_choice("result", result, RESULTS, upper=True)
    pipeline = base.parse_text("pipeline", pipeline, max_length=64)
    change = base.parse_int("change", change, minimum=1, maximum=2**31 - 1)
    limit = base.parse_limit(limit)
    marker = base.parse_int("marker", marker, minimum=1, maximum=2**62)
    rows, total = db_api.report_list(
        base.session(), system_id=system_id, project=project, change=change, result=result,
        pipeline=pipeline, since=window.since, until=window.until, limit=limit, marker=marker)
    if rows is None:
        raise base.invalid("marker", "no report %d" % marker)
    base.set_header("X-Total-Count", total)
    base.mark_csv(types.Report.fields())
    return [types.Report.from_dict(r) for r in rows]
