/* Releases and deployments: the symbol and words for every state, DORA values and definitions.
   Every state is shown as a symbol and a word (or a title), never by colour alone. */
(function () {
  'use strict';
  var DASH = '\u2013';

  // Release task status -> symbol (the heatmap, the release page).
  var TASK = {
    PASS: {symbol: '\u2713', label: 'passed'},
    FAIL: {symbol: '\u2717', label: 'failed'},
    IN_PROGRESS: {symbol: '\u25d0', label: 'in progress'},
    NOT_STARTED: {symbol: '\u25cb', label: 'not started'}
  };
  // Deployment result and wave rollout state -> symbol.
  var DEPLOY = {
    SUCCEEDED: {symbol: '\u2713', label: 'succeeded'},
    DONE: {symbol: '\u2713', label: 'done'},
    FAILED: {symbol: '\u2717', label: 'failed'},
    IN_PROGRESS: {symbol: '\u25d0', label: 'in progress'},
    RUNNING: {symbol: '\u25d0', label: 'running'},
    ROLLED_BACK: {symbol: '\u21a9', label: 'rolled back'},
    SUPERSEDED: {symbol: '\u00bb', label: 'superseded by a newer rollout'}
  };

  function symbolOf(table) {
    return function (status) { return (table[status] || {symbol: '?'}).symbol; };
  }

  function duration(s) {
    if (s === null || s === undefined) { return DASH; }
    if (s < 120) { return Math.round(s) + ' s'; }
    if (s < 7200) { return Math.round(s / 60) + ' min'; }
    if (s < 172800) { return (s / 3600).toFixed(1) + ' h'; }
    return (s / 86400).toFixed(1) + ' d';
  }

  /* A DORA metric's value in its unit (the API names the unit). */
  function doraValue(m) {
    if (!m || m.value === null || m.value === undefined) { return DASH; }
    var unit = (m.unit || '').toLowerCase();
    if (unit === 's' || unit === 'seconds' || unit === 'second') { return duration(m.value); }
    if (unit === 'ratio' || unit === 'fraction') { return (m.value * 100).toFixed(1) + '%'; }
    if (unit === '%' || unit === 'percent') { return m.value.toFixed(1) + '%'; }
    var v = Math.round(m.value * 100) / 100;
    return v + (unit ? ' ' + unit.replace(/_/g, ' ') : '');
  }

  angular.module('radar')
    .constant('TASK_STATES', TASK)
    .constant('DEPLOY_STATES', DEPLOY)
    .constant('DORA', {
      // In the order the tiles are shown.
      order: ['deployment_frequency', 'lead_time', 'change_failure_rate', 'recovery_time'],
      labels: {
        deployment_frequency: 'Deployment frequency',
        lead_time: 'Lead time for changes',
        change_failure_rate: 'Change failure rate',
        recovery_time: 'Failed deployment recovery time'
      },
      definitions: {
        deployment_frequency: 'How often a successful deployment reaches production',
        lead_time: 'Median time from a change merged to its deployment in production',
        change_failure_rate: 'Share of production deployments that failed or were rolled back',
        recovery_time: 'Median time from a failed production deployment to the next successful one'
      },
      tiers: 'Tiers as in the 2023 DORA benchmarks: ELITE, HIGH, MEDIUM, LOW'
    })
    .constant('RELEASE_DEFINITIONS', {
      status: 'RED when any task failed, GREEN otherwise',
      done: 'Every task passed',
      shipped: 'The shipment says shipped',
      duration: 'From the task\'s start to its end (to now while in progress)',
      after: 'Time since the task\'s previous transition (how long it stayed in the previous status)'
    })
    .filter('taskSymbol', function () { return symbolOf(TASK); })
    .filter('deploySymbol', function () { return symbolOf(DEPLOY); })
    .filter('taskLabel', function () { return function (s) { return (TASK[s] || {label: s}).label; }; })
    .filter('deployLabel', function () { return function (s) { return (DEPLOY[s] || {label: s}).label; }; })
    .filter('longDuration', function () { return duration; })
    .filter('doraValue', function () { return doraValue; })
    .factory('deliveryFmt', function () { return {duration: duration, doraValue: doraValue}; });
})();
