"""Health of a CI system from its summary (DESIGN.md §5 "Health").

GREEN / YELLOW / RED / SILENT / UNKNOWN from the [stats] thresholds on the
success rate, the coverage and silence; every value comes with its reason.
Pure: no database, no clock (the caller passes `now`).
"""

GREEN = "GREEN"
YELLOW = "YELLOW"
RED = "RED"
SILENT = "SILENT"
UNKNOWN = "UNKNOWN"
VALUES = (GREEN, YELLOW, RED, SILENT, UNKNOWN)

_NOT_GIVEN = object()


def _pct(value):
    return "%.1f%%" % (value * 100.0)


def _duration(seconds):
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return "%dd %dh" % (days, hours)
    if hours:
        return "%dh %dm" % (hours, minutes)
    return "%dm" % minutes


def is_silent(last_seen, now, threshold_s, eligible_arrived):
    """No report for longer than the threshold while eligible patch sets arrived."""
    if not eligible_arrived:
        return False
    return last_seen is None or (now - last_seen).total_seconds() > threshold_s


def health(summary, conf, now, last_eligible_created=_NOT_GIVEN, collector_stale=False):
    """(value, reason) for one summary dict (see systems.system_summaries).

    `now` is the moment the health is judged at (the window end for past
    windows). `last_eligible_created`: creation time of the newest eligible
    patch set in the window (system_summaries passes it); when not given,
    "eligible patch sets arrived" falls back to "some eligible patch set was
    missed". `collector_stale`: the collected data is stale, so no judgement.
    """
    opts = conf.stats
    if not summary.get("enabled", True):
        return UNKNOWN, "the system is disabled"
    if collector_stale:
        return UNKNOWN, "collected data is stale: no judgement on incomplete data"

    last_seen = summary.get("last_seen")
    if last_eligible_created is _NOT_GIVEN:
        arrived = (summary.get("missed") or 0) > 0
    else:
        arrived = last_eligible_created is not None and (
            last_seen is None or last_eligible_created > last_seen)
    if is_silent(last_seen, now, opts.silence_threshold, arrived):
        if last_seen is None:
            return SILENT, ("no report ever while eligible patch sets arrived "
                            "(silence threshold %s)" % _duration(opts.silence_threshold))
        return SILENT, ("no report for %s (threshold %s) while eligible patch sets arrived"
                        % (_duration((now - last_seen).total_seconds()),
                           _duration(opts.silence_threshold)))

    reports = summary.get("reports") or 0
    success_rate = summary.get("success_rate")
    coverage = summary.get("coverage")
    judged, red, yellow, fine = False, [], [], []
    if success_rate is not None and reports >= opts.health_min_reports:
        judged = True
        text = "success rate %s" % _pct(success_rate)
        if success_rate < opts.success_rate_red:
            red.append("%s below %s" % (text, _pct(opts.success_rate_red)))
        elif success_rate < opts.success_rate_yellow:
            yellow.append("%s below %s" % (text, _pct(opts.success_rate_yellow)))
        else:
            fine.append(text)
    if coverage is not None:
        judged = True
        text = "coverage %s (%d of %d eligible patch sets missed)" % (
            _pct(coverage), summary.get("missed") or 0, summary.get("eligible_patchsets") or 0)
        if coverage < opts.coverage_red:
            red.append("%s below %s" % (text, _pct(opts.coverage_red)))
        elif coverage < opts.coverage_yellow:
            yellow.append("%s below %s" % (text, _pct(opts.coverage_yellow)))
        else:
            fine.append(text)
    if not judged:
        if success_rate is not None:
            return UNKNOWN, ("only %d reports in the window (at least %d needed) and no "
                             "eligible patch sets" % (reports, opts.health_min_reports))
        if reports:
            return UNKNOWN, ("no SUCCESS or FAILURE report and no eligible patch sets "
                             "in the window")
        return UNKNOWN, "no reports and no eligible patch sets in the window"
    if red:
        return RED, "; ".join(red + yellow)
    if yellow:
        return YELLOW, "; ".join(yellow)
    return GREEN, "; ".join(fine)
