"""Deterministic generator of OpenStack-scale Gerrit review traffic.

One seeded random stream decides everything, so the same ``--seed`` and
``--reports`` always give byte-identical files. The traffic:

* 20 projects with OpenStack-like popularity (nova, neutron and cinder get
  most changes and most third-party CIs);
* 100 CI systems: the reference "Zuul" (check on every patch set, gate
  before merge, 8-12 jobs per project, some non-voting) and 99 third-party
  CIs with their own behaviour: report style (Zuul v3 with 3-12 job lines,
  Zuul v2 with or without job names, Jenkins Gerrit Trigger, free-form
  vendor text), voting or never voting, non-voting jobs, coverage of their
  projects, infrastructure flakiness, how well they catch broken patch sets,
  log-normal latency, start notices, silent periods of weeks, late starters
  and CIs that die for good;
* about a year (2024) of changes, each with 1-12 patch sets, human reviews,
  human ``recheck`` and ``recheck <ci>`` comments after failures (and the
  retries they cause), gate runs, merges and abandons;
* at least ``--reports`` CI reports: the generator keeps adding changes
  until that many reports are written, and paces change arrivals so that
  the last one lands near the end of the year.

Output (streamed: one change is held at a time for ``query``; ``stream``
holds only the events of changes still in flight):

``query``  ``gerrit query --format=JSON --comments --patch-sets`` lines, one
           change per line, then the ``{"type":"stats",...}`` trailer;
``stream`` ``gerrit stream-events`` lines in time order (patchset-created,
           comment-added with approvals, change-merged, change-abandoned).

Usage::

    python -m benchmarks.generate --out DIR [--reports 1000000] [--seed 1]
                                  [--format query|stream|both] [--scale 0.1]
"""

import argparse
import heapq
import json
import math
import os
import random
import sys
import time

YEAR_START = 1704067200          # 2024-01-01T00:00:00Z
YEAR_SECONDS = 366 * 86400        # 2024 is a leap year
YEAR_END = YEAR_START + YEAR_SECONDS
FIRST_CHANGE = 880000
GERRIT = "https://review.example.org"
ZUUL_WEB = "https://zuul.example.org/t/openstack"

# name, weight (share of changes), reference-CI job names of the project
PROJECTS = [
    ("openstack/nova", 16), ("openstack/neutron", 13), ("openstack/cinder", 9),
    ("openstack/ironic", 6), ("openstack/manila", 5), ("openstack/glance", 4),
    ("openstack/keystone", 4), ("openstack/swift", 4), ("openstack/horizon", 4),
    ("openstack/heat", 3), ("openstack/octavia", 3), ("openstack/designate", 2),
    ("openstack/barbican", 2), ("openstack/placement", 2), ("openstack/tempest", 5),
    ("openstack/devstack", 4), ("openstack/kolla-ansible", 5),
    ("openstack/openstacksdk", 3), ("openstack/oslo.messaging", 2),
    ("openstack/python-novaclient", 2),
]
COMMON_JOBS = ["openstack-tox-pep8", "openstack-tox-py38", "openstack-tox-py39",
               "openstack-tox-py310", "openstack-tox-py311", "openstack-tox-docs",
               "openstack-tox-cover", "build-openstack-releasenotes",
               "openstack-tox-functional-py311", "requirements-check"]
INTEGRATION_JOBS = ["tempest-full-py3", "tempest-integrated-{short}", "grenade",
                    "{short}-grenade-multinode", "devstack-platform-centos-9-stream",
                    "tempest-slow-py3", "{short}-tempest-plugin-scenario",
                    "{short}-ceph-multinode", "tempest-ipv6-only", "{short}-multinode-ovs",
                    "devstack-platform-debian-bookworm", "{short}-rbac-tempest"]
JOB_FAILURES = ["FAILURE"] * 8 + ["POST_FAILURE", "TIMED_OUT", "NODE_FAILURE", "RETRY_LIMIT"]

VENDORS = [
    "Cisco", "Mellanox", "Arista", "Brocade", "Big Switch", "NEC", "Hyper-V", "XenServer",
    "VMware NSX", "PLUMgrid", "Huawei", "IBM PowerKVM", "IBM xCAT", "Dell EMC", "NetApp",
    "HPE 3PAR", "Pure Storage", "Nimble", "SolidFire", "Ceph", "Quobyte", "Virtuozzo",
    "Midokura", "Juniper Contrail", "Nuage", "OpenContrail", "Tintri", "Hitachi", "Fujitsu",
    "Infortrend", "Kaminario", "INSPUR", "DataCore", "StorPool", "Veritas", "Zadara",
    "Lenovo", "Oracle ZFSSA", "Datera", "Synology", "ProphetStor", "LINBIT DRBD", "Blockbridge",
    "Coho", "Violin", "X-IO", "Nexenta", "Scality", "Hedvig", "Dell PowerMax", "Dell Unity",
    "Dell SC", "HPE Nimble", "Infinidat", "Lightbits", "Yadro", "Toyou", "Macrosan",
    "Fungible", "Open vSwitch", "OVN", "Cumulus", "Radware", "A10 Networks", "F5",
    "Avi Networks", "Citrix NetScaler", "Kemp", "Intel NFV", "Intel SR-IOV", "Mellanox SR-IOV",
    "Chelsio", "Emulex", "QLogic", "Broadcom", "Marvell", "Netronome", "Napatech", "6WIND",
    "Wind River", "Ericsson", "Nokia", "ZTE", "China Mobile", "Rackspace", "OVH", "Vexxhost",
    "Platform9", "Mirantis", "Canonical", "Red Hat OSP", "SUSE", "Oracle Linux", "Debian",
    "ARM64", "PowerVM", "z/VM", "LXD", "Docker",
]
FIRST_NAMES = ["Ana", "Bruno", "Chen", "Divya", "Elena", "Farid", "Grace", "Hiro", "Ines",
               "Jonas", "Kavya", "Lars", "Mei", "Nadia", "Omar", "Priya", "Quentin", "Rosa",
               "Sven", "Tariq", "Uma", "Victor", "Wen", "Ximena", "Yusuf", "Zoe", "Amir",
               "Beatriz", "Carlos", "Dmitri", "Emma", "Felix", "Gita", "Hannah", "Ivan",
               "Julia", "Kenji", "Lucia", "Marek", "Noor"]
LAST_NAMES = ["Souza", "Müller", "Wang", "Iyer", "Petrova", "Haddad", "Okafor", "Tanaka",
              "García", "Berg", "Nair", "Olsen", "Lin", "Rahman", "Castillo", "Sharma",
              "Dubois", "Rossi", "Lund", "Aziz", "Kowalski", "Novak", "Zhou", "Herrera",
              "Demir", "Fischer", "Moreau", "Sato", "Kim", "Nguyen", "Silva", "Kaur"]
REVIEW_TEXTS = [
    "Looks good to me.", "Thanks, this looks right.", "(2 comments)\n\nA couple of nits inline.",
    "(1 comment)\n\nPlease add a release note for this.", "Could you add a unit test?",
    "I'd rather fix this in the driver, see inline.", "+1, works for me locally.",
    "The Zuul result says Build failed. but the failure is unrelated (known bug).",
    "(5 comments)\n\nSome questions inline; the approach looks fine.",
    "Is this backportable to stable/2024.1?", "nice cleanup", "LGTM, thanks!",
]
RECHECK_REASONS = ["recheck", "recheck", "recheck", "recheck unrelated failure in grenade",
                   "recheck timeout on the node", "recheck bug 2054321"]


def _duration_text(seconds):
    seconds = int(seconds)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    if h:
        return " in %dh %02dm %02ds" % (h, m, s)
    if m:
        return " in %dm %02ds" % (m, s)
    return " in %ds" % s


def _account(first, last):
    name = "%s %s" % (first, last)
    user = ("%s%s" % (first[0], last)).lower()
    user = user.encode("ascii", "ignore").decode() or "user"
    return {"name": name, "email": "%s@example.org" % user, "username": user}


class CI:
    """One CI system and its behaviour."""

    def __init__(self, rng, index, name, username, projects, style, reference=False,
                 vendor=None):
        self.index = index
        self.name = name
        # Plain words for free-form texts ("z/VM" would not read as a word).
        self.vendor = (vendor or name).replace("/", "")
        self.username = username
        self.account = {"name": name, "email": "%s@ci.example.org" % username,
                        "username": username}
        self.reference = reference
        self.projects = set(projects)
        self.style = style
        slug = username.replace("-ci", "").replace("-bot", "").replace("-testing", "")
        self.host = "ci.%s.example.com" % slug
        if reference:
            self.votes = True
            self.coverage = 1.0
            self.flake = 0.06
            self.detect = 0.95
            self.lat_median = 50 * 60.0
            self.lat_sigma = 0.45
            self.gaps = []
            self.born, self.died = YEAR_START, None
            self.start_notice = False
            self.rechecks = 1.0
            self.with_pipeline = True
            self.all_nonvoting = False
            self.jobs = None  # per project
            return
        self.votes = rng.random() < 0.7
        self.coverage = rng.uniform(0.55, 1.0)
        self.flake = rng.choice([0.01, 0.03, 0.05, 0.1, 0.15, 0.25, 0.4])
        self.detect = rng.uniform(0.5, 1.0)
        self.lat_median = rng.choice([8, 15, 30, 45, 60, 90, 120, 240, 480]) * 60.0
        self.lat_sigma = rng.uniform(0.25, 1.2)
        self.start_notice = rng.random() < 0.3
        self.rechecks = rng.uniform(0.5, 1.0)
        self.with_pipeline = rng.random() < 0.5
        self.all_nonvoting = (not self.votes) and rng.random() < 0.5
        # Silent for weeks: 0-3 outages; some start late, some die for good.
        self.gaps = []
        for _ in range(rng.choice([0, 0, 0, 1, 1, 2, 3])):
            start = YEAR_START + rng.uniform(0, YEAR_SECONDS)
            self.gaps.append((start, start + rng.uniform(7, 56) * 86400))
        self.born = YEAR_START
        self.died = None
        roll = rng.random()
        if roll < 0.05:
            self.born = YEAR_START + rng.uniform(0.2, 0.7) * YEAR_SECONDS
        elif roll < 0.1:
            self.died = YEAR_START + rng.uniform(0.3, 0.9) * YEAR_SECONDS
        if style in ("zuulv3", "zuulv2"):
            count = rng.randint(3, 12)
        elif style == "jenkins":
            count = rng.randint(1, 4)
        else:
            count = 0
        prefix = slug.replace(".", "-")
        kinds = ["tempest", "tempest-full", "scenario", "api", "smoke", "functional",
                 "multinode", "dsvm", "volume", "network", "compute", "ha", "upgrade",
                 "migration", "baremetal", "sriov"]
        names = rng.sample(kinds, count)
        nonvoting = set()
        if count > 1 and rng.random() < 0.35:
            nonvoting = set(rng.sample(range(count), rng.randint(1, min(3, count - 1))))
        self.job_list = [("%s-%s" % (prefix, k), i in nonvoting or self.all_nonvoting,
                          rng.uniform(5, 120) * 60) for i, k in enumerate(names)]
        self.freeform = rng.randrange(4)

    def active(self, t):
        if t < self.born or (self.died is not None and t >= self.died):
            return False
        return not any(a <= t < b for a, b in self.gaps)

    def latency(self, rng):
        value = self.lat_median * math.exp(self.lat_sigma * rng.gauss(0, 1))
        return min(max(value, 45.0), 3 * 86400.0)


class Generator:
    def __init__(self, seed=1, reports=1_000_000):
        self.rng = rng = random.Random(seed)
        self.target = reports
        self.humans = [_account(f, last) for f in FIRST_NAMES for last in LAST_NAMES]
        rng.shuffle(self.humans)
        self.humans = self.humans[:600]
        weights = [w for _, w in PROJECTS]
        self.project_names = [p for p, _ in PROJECTS]
        self.project_weights = weights
        self.cores = {p: rng.sample(self.humans, 8) for p in self.project_names}
        self.zuul_jobs = {}
        for name in self.project_names:
            short = name.split("/")[1].split(".")[0].replace("python-", "")
            count = rng.randint(8, 12)
            unit = rng.sample(COMMON_JOBS, min(count // 2 + 1, len(COMMON_JOBS)))
            integ = [j.format(short=short) for j in
                     rng.sample(INTEGRATION_JOBS, count - len(unit))]
            jobs = []
            for j in unit + integ:
                nonvoting = j in integ and rng.random() < 0.2
                jobs.append((j, nonvoting, rng.uniform(3, 110) * 60))
            self.zuul_jobs[name] = jobs
        zuul = CI(rng, 0, "Zuul", "zuul", self.project_names, "zuulv3", reference=True)
        self.systems = [zuul]
        styles = ["zuulv3"] * 45 + ["zuulv2"] * 15 + ["jenkins"] * 25 + ["freeform"] * 14
        rng.shuffle(styles)
        ci_weights = [math.sqrt(w) for w in weights]
        suffixes = [" CI"] * 12 + [" Third Party CI", " Testing", " Bot", " CI Bot"]
        for i in range(99):
            vendor = VENDORS[i]
            suffix = rng.choice(suffixes)
            name = vendor + suffix
            user = (vendor.lower().replace(" ", "-").replace("/", "")
                    + {" CI": "-ci", " Third Party CI": "-ci", " Testing": "-testing",
                       " Bot": "-bot", " CI Bot": "-ci-bot"}[suffix])
            n_projects = rng.choice([1, 1, 2, 2, 3, 3, 4, 5, 6])
            projects = set()
            while len(projects) < n_projects:
                projects.add(rng.choices(self.project_names, ci_weights)[0])
            self.systems.append(CI(rng, i + 1, name, user, projects, styles[i],
                                   vendor=vendor))
        self.by_project = {p: [s for s in self.systems[1:] if p in s.projects]
                           for p in self.project_names}
        self.counts = dict(changes=0, patchsets=0, messages=0, reports=0, job_lines=0,
                           rechecks=0, start_notices=0, human_comments=0)

    # --- one change ---------------------------------------------------------

    def changes(self):
        """Yield one simulated change at a time until the report target is met."""
        rng = self.rng
        t = float(YEAR_START)
        number = FIRST_CHANGE
        prior_changes, prior_reports = 20, 20 * 30
        while self.counts["reports"] < self.target:
            done, made = self.counts["changes"], self.counts["reports"]
            avg = (made + prior_reports) / (done + prior_changes)
            remaining_changes = max(1.0, (self.target - made) / avg)
            mean_gap = max(1.0, (YEAR_END - 3 * 86400 - t) / remaining_changes)
            t += rng.expovariate(1.0 / mean_gap)
            number += 1
            yield self._change(number, int(t))

    def _change(self, number, created):
        rng = self.rng
        project = rng.choices(self.project_names, self.project_weights)[0]
        owner = rng.choice(self.humans)
        branch = "master" if rng.random() < 0.88 else rng.choice(
            ["stable/2023.2", "stable/2024.1", "stable/2024.2"])
        change = {"number": number, "project": project, "branch": branch, "owner": owner,
                  "created": created, "id": "I%040x" % rng.getrandbits(160),
                  "subject": "%s: %s" % (project.split("/")[1], rng.choice(
                      ["fix race in detach", "add support for volume multiattach",
                       "refactor the scheduler filters", "drop py38 support",
                       "handle missing port binding", "update the api reference",
                       "use oslo.utils timeutils", "add release note",
                       "fix typo in config help", "remove deprecated option"]))}
        roll = rng.random()
        fate = "MERGED" if roll < 0.7 else ("ABANDONED" if roll < 0.85 else "NEW")
        k = 1
        while k < 12 and rng.random() < 0.62:
            k += 1
        comments = []   # (time, seq, account, text, extra)
        patchsets = []
        ps_time = created
        for ps in range(1, k + 1):
            uploader = owner if rng.random() < 0.92 else rng.choice(self.humans)
            patchsets.append({"number": ps, "revision": "%040x" % rng.getrandbits(160),
                              "created": ps_time, "uploader": uploader,
                              "kind": "REWORK" if ps == 1 or rng.random() < 0.7
                              else "TRIVIAL_REBASE",
                              "ins": rng.randint(1, 400), "dels": rng.randint(0, 200)})
            comments.append((ps_time, 0, uploader, "Uploaded patch set %d." % ps,
                             {"kind": "upload", "ps": ps}))
            last = k == ps
            bad = rng.random() < (0.08 if last else 0.45)
            end = self._patchset_traffic(change, ps, ps_time, bad, comments)
            if last:
                if fate == "MERGED":
                    if not self._gate(change, ps, end, comments):
                        fate = "NEW"  # three gate failures: still open
                elif fate == "ABANDONED":
                    when = end + int(rng.uniform(1, 30) * 86400)
                    comments.append((when, 9, owner, "Abandoned\n\nNo longer needed.",
                                     {"kind": "abandon", "ps": ps}))
            else:
                gap = 20 * 3600 * math.exp(1.0 * rng.gauss(0, 1))
                ps_time = int(ps_time + min(max(gap, 600), 30 * 86400))
        comments.sort(key=lambda c: (c[0], c[1]))
        # Same author, same second would make one message of two: nudge.
        seen = set()
        fixed = []
        for when, seq, account, text, extra in comments:
            key = (when, account["username"])
            while key in seen:
                when += 1
                key = (when, account["username"])
            seen.add(key)
            fixed.append((when, seq, account, text, extra))
        fixed.sort(key=lambda c: (c[0], c[1]))
        change["comments"] = fixed
        change["patchsets"] = patchsets
        change["status"] = fate
        change["updated"] = fixed[-1][0]
        c = self.counts
        c["changes"] += 1
        c["patchsets"] += len(patchsets)
        c["messages"] += len(fixed)
        return change

    def _patchset_traffic(self, change, ps, ps_time, bad, comments):
        """CI runs, reviews and rechecks on one patch set; returns the time it settles."""
        rng = self.rng
        project = change["project"]
        zuul = self.systems[0]
        end = ps_time
        # Human reviews.
        for _ in range(rng.choice([0, 0, 1, 1, 1, 2, 3])):
            when = ps_time + int(rng.uniform(600, 2 * 86400))
            reviewer = rng.choice(self.cores[project] + self.humans[:50])
            vote = rng.choice(["Code-Review+1", "Code-Review-1", "Code-Review+1", "",
                               "Code-Review+2", "Code-Review-2"]) if reviewer is not \
                change["owner"] else ""
            text = "Patch Set %d:%s\n\n%s" % (ps, " " + vote if vote else "",
                                             rng.choice(REVIEW_TEXTS))
            comments.append((when, 5, reviewer, text, {"kind": "review", "ps": ps,
                                                      "vote": vote}))
            self.counts["human_comments"] += 1
        # First round: Zuul and the third-party CIs of the project.
        runners = [zuul] + [s for s in self.by_project[project]
                            if s.active(ps_time) and rng.random() < s.coverage]
        rounds = 0
        trigger = ps_time
        while runners and rounds < 4:
            rounds += 1
            failed_flaky = []
            zuul_failed_flaky = False
            for ci in runners:
                when, failed, flaky = self._run(change, ps, ci, trigger, bad, comments)
                end = max(end, when)
                if failed and flaky:
                    failed_flaky.append((ci, when))
                    if ci is zuul:
                        zuul_failed_flaky = True
            nxt = []
            if zuul_failed_flaky and rng.random() < 0.75:
                trigger = end + int(rng.uniform(300, 3 * 3600))
                comments.append((trigger, 5, change["owner"],
                                 "Patch Set %d:\n\n%s" % (ps, rng.choice(RECHECK_REASONS)),
                                 {"kind": "recheck", "ps": ps}))
                self.counts["rechecks"] += 1
                self.counts["human_comments"] += 1
                nxt = [zuul] + [s for s in self.by_project[project]
                                if s.active(trigger) and rng.random() < s.coverage * s.rechecks]
            else:
                for ci, when in failed_flaky:
                    if ci is not zuul and rng.random() < 0.15:
                        trigger = when + int(rng.uniform(600, 6 * 3600))
                        comments.append((trigger, 5, change["owner"],
                                         "Patch Set %d:\n\nrecheck %s" % (ps, ci.username),
                                         {"kind": "recheck", "ps": ps}))
                        self.counts["rechecks"] += 1
                        self.counts["human_comments"] += 1
                        nxt = [ci] if ci.active(trigger) else []
                        break
            runners = nxt
        return end

    def _gate(self, change, ps, after, comments):
        rng = self.rng
        zuul = self.systems[0]
        core = rng.choice(self.cores[change["project"]])
        when = after + int(rng.uniform(3600, 3 * 86400))
        for attempt in range(3):
            comments.append((when, 5, core, "Patch Set %d: Code-Review+2 Workflow+1\n\n%s" % (
                ps, rng.choice(["LGTM", "Thanks!", "", "Approving."])) if attempt == 0 else
                "Patch Set %d:\n\nrecheck" % ps, {"kind": "review", "ps": ps}))
            self.counts["human_comments"] += 1
            if attempt:
                self.counts["rechecks"] += 1
            start = when + 60
            comments.append((start, 6, zuul.account,
                             "Patch Set %d: -Verified\n\nStarting gate jobs." % ps,
                             {"kind": "start", "ps": ps}))
            self.counts["start_notices"] += 1
            roll = rng.random()
            done = start + int(zuul.latency(rng))
            if roll < 0.02:
                text = ("Patch Set %d: Verified-1\n\nMerge Failed.\n\nThis change or one of "
                        "its cross-repo dependencies was unable to be automatically merged "
                        "with the current state of its repository. Please rebase the change "
                        "and upload a new patchset." % ps)
                self._report(comments, done, zuul, text, 0, ps)
                return False
            failed = roll < 0.1
            text, jobs = self._zuul_text(change, ps, zuul, failed, flaky=failed,
                                         pipeline="gate", vote=("-2" if failed else "+2"))
            self._report(comments, done, zuul, text, jobs, ps)
            if not failed:
                comments.append((done + 20, 7, zuul.account,
                                 "Change has been successfully merged by Zuul",
                                 {"kind": "merged", "ps": ps}))
                return True
            when = done + int(rng.uniform(600, 4 * 3600))
        return False

    def _report(self, comments, when, ci, text, jobs, ps, vote=None):
        comments.append((when, 6, ci.account, text, {"kind": "report", "ps": ps,
                                                     "ci": ci.index, "vote": vote}))
        self.counts["reports"] += 1
        self.counts["job_lines"] += jobs

    def _run(self, change, ps, ci, trigger, bad, comments):
        """One CI run: optional start notice, then the report. (time, failed, flaky)."""
        rng = self.rng
        if ci.start_notice:
            when = trigger + int(rng.uniform(20, 300))
            if ci.style == "jenkins":
                job = ci.job_list[0][0]
                text = "Patch Set %d:\n\nBuild Started https://%s/job/%s/%d/ (1/%d)" % (
                    ps, ci.host, job, rng.randint(1, 99999), len(ci.job_list))
            else:
                text = "Patch Set %d:\n\nStarting check jobs." % ps
            comments.append((when, 6, ci.account, text, {"kind": "start", "ps": ps}))
            self.counts["start_notices"] += 1
        when = trigger + int(ci.latency(rng))
        caught = bad and rng.random() < ci.detect
        flaky = (not caught) and rng.random() < ci.flake
        failed = caught or flaky
        if ci.reference:
            vote = "-1" if failed else "+1"
            text, jobs = self._zuul_text(change, ps, ci, failed, flaky, "check", vote)
        elif ci.style in ("zuulv3", "zuulv2"):
            vote = ("-1" if failed else "+1") if ci.votes else None
            text, jobs = self._zuul_text(change, ps, ci, failed, flaky, "check", vote)
        elif ci.style == "jenkins":
            text, jobs, vote = self._jenkins_text(change, ps, ci, failed)
        else:
            vote = ("-1" if failed else "+1") if ci.votes else None
            text, jobs = self._freeform_text(change, ps, ci, failed, vote)
        self._report(comments, when, ci, text, jobs, ps, vote)
        return when, failed, flaky

    # --- report texts ---------------------------------------------------------

    def _job_results(self, jobs, failed):
        """[(name, result, nonvoting, seconds)]: at least one voting job fails if failed."""
        rng = self.rng
        voting = [i for i, j in enumerate(jobs) if not j[1]] or list(range(len(jobs)))
        failing = set(rng.sample(voting, min(len(voting), rng.choice([1, 1, 1, 2])))) \
            if failed else set()
        out = []
        for i, (name, nonvoting, median) in enumerate(jobs):
            if i in failing:
                result = rng.choice(JOB_FAILURES)
            elif nonvoting and rng.random() < 0.2:
                result = "FAILURE"
            elif rng.random() < 0.03:
                result = "SKIPPED"
            else:
                result = "SUCCESS"
            seconds = median * math.exp(0.3 * rng.gauss(0, 1))
            out.append((name, result, nonvoting, seconds))
        # Zuul lists failures first in nothing; Gerrit Trigger does (worst first).
        return out

    def _zuul_text(self, change, ps, ci, failed, flaky, pipeline, vote):
        rng = self.rng
        jobs = self.zuul_jobs[change["project"]] if ci.reference else ci.job_list
        word = "failed" if failed else "succeeded"
        if ci.reference or ci.with_pipeline:
            headline = "Build %s (%s pipeline)." % (word, pipeline)
        else:
            headline = "Build %s." % word
        header = "Patch Set %d:%s" % (ps, " Verified" + vote if vote else "")
        lines = [header, "", headline]
        number = change["number"]
        if ci.reference or ci.style == "zuulv3":
            web = ZUUL_WEB if ci.reference else "https://%s/zuul/t/tenant" % ci.host
            lines += ["", "%s/buildset/%032x" % (web, rng.getrandbits(128)), ""]
            for name, result, nonvoting, seconds in self._job_results(jobs, failed):
                lines.append("- %s %s/build/%032x : %s%s%s" % (
                    name, web, rng.getrandbits(128), result,
                    "" if result == "SKIPPED" else _duration_text(seconds),
                    " (non-voting)" if nonvoting else ""))
        else:  # Zuul v2: OpenStack log layout, job name printed or not
            lines += [""]
            named = ci.index % 3 != 0
            for name, result, nonvoting, seconds in self._job_results(jobs, failed):
                url = "http://%s/logs/%02d/%d/%d/check/%s/%07x/" % (
                    ci.host, number % 100, number, ps, name, rng.getrandbits(28))
                lines.append("- %s%s : %s%s%s" % (
                    name + " " if named else "", url, result, _duration_text(seconds),
                    " (non-voting)" if nonvoting else ""))
        return "\n".join(lines) + "\n", len(jobs)

    def _jenkins_text(self, change, ps, ci, failed):
        rng = self.rng
        results = self._job_results(ci.job_list, failed)
        unstable = failed and rng.random() < 0.15
        if unstable:
            results = [(n, "UNSTABLE" if r != "SUCCESS" else r, nv, s)
                       for n, r, nv, s in results]
            head, header_vote = "Build Unstable", " Code-Review-1"
        elif failed:
            head, header_vote = "Build Failed", " Verified-1"
        else:
            head, header_vote = "Build Successful", " Verified+1"
        if not ci.votes:
            header_vote = ""
        order = {"FAILURE": 0, "UNSTABLE": 1, "POST_FAILURE": 0, "TIMED_OUT": 0,
                 "NODE_FAILURE": 0, "RETRY_LIMIT": 0, "SKIPPED": 3, "SUCCESS": 2}
        results.sort(key=lambda r: order.get(r[1], 0))
        parts = ["Patch Set %d:%s\n\n%s " % (ps, header_vote, head)]
        for name, result, nonvoting, _seconds in results:
            word = result if result in ("SUCCESS", "FAILURE", "UNSTABLE") else "FAILURE"
            parts.append("\n\nhttps://%s/job/%s/%d/ : %s%s" % (
                ci.host, name, rng.randint(1, 99999), word,
                " (skipped)" if nonvoting else ""))
        return "".join(parts), len(results), header_vote.strip() or None

    def _freeform_text(self, change, ps, ci, failed, vote):
        rng = self.rng
        header = "Patch Set %d:%s\n\n" % (ps, " Verified" + vote if vote else "")
        url = "http://%s/results/%d/%d/%08x/" % (ci.host, change["number"], ps,
                                                 rng.getrandbits(32))
        vendor = ci.vendor
        if ci.freeform == 0:
            body = "%s using %s driver: %s" % ("Failed" if failed else "Passed", vendor, url)
        elif ci.freeform == 1:
            body = "%s third party testing %s\n\nLogs: %s" % (
                vendor, "FAILED" if failed else "PASSED", url)
        elif ci.freeform == 2:
            body = "%s: %s" % ("FAILED" if failed else "PASSED", url)
        else:
            body = ("%s tests %s.\n\nFull logs are at %s\nPlease contact the %s team "
                    "for questions." % (vendor, "failed" if failed else "passed", url, vendor))
        return header + body, 0


# --- writers ----------------------------------------------------------------

def _ps_attr(change, ps, full=True):
    attr = {"number": ps["number"], "revision": ps["revision"],
            "ref": "refs/changes/%02d/%d/%d" % (change["number"] % 100, change["number"],
                                                ps["number"])}
    if full:
        attr.update(parents=["%040x" % (int(ps["revision"], 16) ^ 0xABCDEF)],
                    uploader=ps["uploader"], createdOn=ps["created"],
                    author=ps["uploader"], kind=ps["kind"],
                    sizeInsertions=ps["ins"], sizeDeletions=-ps["dels"])
    else:
        attr.update(createdOn=ps["created"], kind=ps["kind"])
    return attr


def _change_attr(change, status=None):
    number = change["number"]
    return {"project": change["project"], "branch": change["branch"], "id": change["id"],
            "number": number, "subject": change["subject"], "owner": change["owner"],
            "url": "%s/c/%s/+/%d" % (GERRIT, change["project"], number),
            "commitMessage": "%s\n\nChange-Id: %s\n" % (change["subject"], change["id"]),
            "createdOn": change["created"], "status": status or change["status"]}


def query_line(change):
    obj = _change_attr(change)
    obj["lastUpdated"] = change["updated"]
    obj["open"] = change["status"] == "NEW"
    obj["comments"] = [{"timestamp": when, "reviewer": account, "message": text}
                       for when, _seq, account, text, _extra in change["comments"]]
    obj["patchSets"] = [_ps_attr(change, ps) for ps in change["patchsets"]]
    return json.dumps(obj, separators=(",", ":")) + "\n"


def stream_events(change):
    """(time, order, line) for every stream event of the change."""
    out = []
    by_number = {ps["number"]: ps for ps in change["patchsets"]}
    base = _change_attr(change, "NEW")
    envelope = {"project": change["project"], "refName": "refs/heads/" + change["branch"],
                "changeKey": {"id": change["id"]}}
    for i, (when, _seq, account, text, extra) in enumerate(change["comments"]):
        ps = by_number[extra["ps"]]
        kind = extra["kind"]
        if kind == "upload":
            event = {"uploader": account, "patchSet": _ps_attr(change, ps), "change": base,
                     **envelope, "type": "patchset-created", "eventCreatedOn": when}
        elif kind == "merged":
            event = {"submitter": account, "newRev": "%040x" % (int(ps["revision"], 16) ^ 1),
                     "patchSet": _ps_attr(change, ps, full=False),
                     "change": _change_attr(change, "MERGED"), **envelope,
                     "type": "change-merged", "eventCreatedOn": when}
        elif kind == "abandon":
            event = {"abandoner": account, "reason": "No longer needed.",
                     "patchSet": _ps_attr(change, ps, full=False),
                     "change": _change_attr(change, "ABANDONED"), **envelope,
                     "type": "change-abandoned", "eventCreatedOn": when}
        else:
            approvals = []
            header = text.split("\n", 1)[0]
            for token in header.split(":", 1)[1].split():
                if token[0] == "-":
                    continue
                label, sign, value = token.rpartition("+") if "+" in token else \
                    token.rpartition("-")
                approvals.append({"type": label, "description": label,
                                  "value": str(int(sign + value)), "oldValue": "0"})
            event = {"author": account, "approvals": approvals, "comment": text,
                     "patchSet": _ps_attr(change, ps, full=False), "change": base,
                     **envelope, "type": "comment-added", "eventCreatedOn": when}
        out.append((when, i, json.dumps(event, separators=(",", ":")) + "\n"))
    return out


def generate(out_dir, reports=1_000_000, seed=1, fmt="query", progress=True):
    """Write the files; return a summary dict (counts, paths, bytes)."""
    os.makedirs(out_dir, exist_ok=True)
    gen = Generator(seed=seed, reports=reports)
    formats = ("query", "stream") if fmt == "both" else (fmt,)
    paths = {f: os.path.join(out_dir, "gerrit-%s.json" % f) for f in formats}
    files = {f: open(paths[f] + ".part", "w", encoding="ascii", buffering=1 << 20)
             for f in formats}
    written = dict.fromkeys(formats, 0)
    lines = dict.fromkeys(formats, 0)
    heap = []
    started = time.monotonic()
    last_note = started
    seq = 0
    try:
        for change in gen.changes():
            if "query" in files:
                line = query_line(change)
                files["query"].write(line)
                written["query"] += len(line)
                lines["query"] += 1
            if "stream" in files:
                # Every later change starts after this one: flush what is older.
                while heap and heap[0][0] <= change["created"]:
                    _t, _s, line = heapq.heappop(heap)
                    files["stream"].write(line)
                    written["stream"] += len(line)
                    lines["stream"] += 1
                for when, _i, line in stream_events(change):
                    seq += 1
                    heapq.heappush(heap, (when, seq, line))
            now = time.monotonic()
            if progress and now - last_note > 15:
                last_note = now
                print("  ... %d changes, %d reports (%.0f%%), %.0f s" % (
                    gen.counts["changes"], gen.counts["reports"],
                    100.0 * gen.counts["reports"] / max(1, reports), now - started),
                    file=sys.stderr, flush=True)
        if "stream" in files:
            while heap:
                _t, _s, line = heapq.heappop(heap)
                files["stream"].write(line)
                written["stream"] += len(line)
                lines["stream"] += 1
        if "query" in files:
            line = json.dumps({"type": "stats", "rowCount": gen.counts["changes"],
                               "runTimeMilliseconds": 4213, "moreChanges": False},
                              separators=(",", ":")) + "\n"
            files["query"].write(line)
            written["query"] += len(line)
    finally:
        for fh in files.values():
            fh.close()
    for f in formats:
        os.replace(paths[f] + ".part", paths[f])
    summary = dict(gen.counts, seed=seed, target_reports=reports,
                   ci_systems=len(gen.systems), projects=len(PROJECTS),
                   seconds=round(time.monotonic() - started, 1),
                   files={f: {"path": paths[f], "bytes": written[f], "lines": lines[f]}
                          for f in formats})
    with open(os.path.join(out_dir, "summary-%s.json" % fmt), "w") as fh:
        json.dump(summary, fh, indent=2, sort_keys=True)
    return summary


def describe(summary):
    out = ["generated (seed %d) in %.1f s: %d CI systems, %d projects" % (
        summary["seed"], summary["seconds"], summary["ci_systems"], summary["projects"]),
        "  changes       %10d" % summary["changes"],
        "  patch sets    %10d" % summary["patchsets"],
        "  messages      %10d  (uploads, reviews, rechecks, CI starts and reports, merges)"
        % summary["messages"],
        "  CI reports    %10d" % summary["reports"],
        "  job lines     %10d" % summary["job_lines"],
        "  rechecks      %10d" % summary["rechecks"],
        "  start notices %10d" % summary["start_notices"]]
    for fmt, info in sorted(summary["files"].items()):
        out.append("  %-6s file   %10d bytes (%.1f MiB), %d lines: %s" % (
            fmt, info["bytes"], info["bytes"] / 1048576.0, info["lines"], info["path"]))
    return "\n".join(out)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.generate",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, help="Output directory.")
    parser.add_argument("--reports", type=int, default=1_000_000,
                        help="Minimum number of CI reports (default 1,000,000).")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="Multiply --reports (0.1 gives a tenth).")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--format", choices=("query", "stream", "both"), default="query")
    args = parser.parse_args(argv)
    reports = max(1, int(args.reports * args.scale))
    summary = generate(args.out, reports=reports, seed=args.seed, fmt=args.format)
    print(describe(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
