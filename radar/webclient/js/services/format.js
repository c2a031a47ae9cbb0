/* Formatting shared by every page; the browser tests format the API's numbers the same way. */
(function () {
  'use strict';
  var DASH = '\u2013';

  function pct(x) {
    if (x === null || x === undefined) { return DASH; }
    return (x * 100).toFixed(1) + '%';
  }

  function duration(s) {
    if (s === null || s === undefined) { return DASH; }
    if (s < 120) { return Math.round(s) + ' s'; }
    if (s < 7200) { return Math.round(s / 60) + ' min'; }
    return (s / 3600).toFixed(1) + ' h';
  }

  function utc(iso) {
    if (!iso) { return DASH; }
    // "2014-05-07T15:54:07+00:00" -> "2014-05-07 15:54 UTC"
    var d = new Date(iso);
    if (isNaN(d.getTime())) { return iso; }
    return d.toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
  }

  angular.module('radar')
    .constant('DEFINITIONS', {
      health: 'GREEN: reporting normally; YELLOW: degraded; RED: failing or missing most ' +
              'patch sets; SILENT: no reports in the window; UNKNOWN: nothing to judge by',
      success_rate: 'Reports with result SUCCESS divided by all reports with a result in the window',
      coverage: 'Eligible patch sets (in the projects the system covers) the system reported on, ' +
                'divided by all eligible patch sets',
      latency_p50_s: 'Median time from a patch set upload to the system\'s first report on it',
      latency_p90_s: '90th percentile of the time from upload to first report',
      last_seen: 'Time of the system\'s most recent report',
      trend: 'Success rate per day (per week for windows over half a year); days without reports are left out',
      reports: 'Reports the system posted in the window',
      missed: 'Eligible patch sets the system did not report on',
      flake_rate: 'Share of reported patch sets whose result flipped between attempts',
      agreement: 'Share of the patch sets both systems reported on where the final results agree',
      rechecks: 'Recheck requests aimed at the system in the window',
      first_attempt_success_rate: 'Success rate of the first report on each patch set',
      job_success_rate: 'Runs with result SUCCESS divided by all runs of the job',
      flaky: 'Patch sets where the job both failed and succeeded',
      median_duration_s: 'Median run time of the job'
    })
    .filter('pct', function () { return pct; })
    .filter('duration', function () { return duration; })
    .filter('utc', function () { return utc; })
    .filter('encodeURIComponent', function () { return encodeURIComponent; })
    .factory('fmt', function () { return {pct: pct, duration: duration, utc: utc}; });
})();
