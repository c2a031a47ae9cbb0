/* Deployments: the four DORA tiles, rollout waves per version, recent deployments. */
(function () {
  'use strict';

  var RECENT = 50;

  angular.module('radar')
    .controller('DeploymentsController', ['$scope', '$location', '$q', 'api', 'Loader',
      'windowFilter', 'fmt', 'DORA', 'DEPLOY_STATES',
      function ($scope, $location, $q, api, Loader, windowFilter, fmt, DORA, DEPLOY_STATES) {
        var vm = this;
        vm.wf = windowFilter;
        vm.dora = DORA;
        vm.states = DEPLOY_STATES;
        vm.noProject = true;  // the window picker without its project field

        function readUrl() {
          var s = $location.search();
          vm.filter = windowFilter.read();
          vm.scope = {service: s.service || '', environment: s.environment || ''};
        }
        function params(extra) {
          var p = api.window(extra, false);
          if (vm.scope.service) { p.service = vm.scope.service; }
          if (vm.scope.environment) { p.environment = vm.scope.environment; }
          return p;
        }

        vm.metrics = new Loader(function () {
          return api.get('dora', params()).then(function (d) {
            var byName = {};
            (d.metrics || []).forEach(function (m) { byName[m.name] = m; });
            // The four tiles in their usual order, whatever order the answer has.
            d.tiles = DORA.order.map(function (name) {
              return byName[name] || {name: name, value: null, unit: null, count: 0, tier: null,
                                      note: 'not in the answer'};
            });
            return d;
          });
        });
        vm.waves = new Loader(function () { return api.get('deployments/waves', params()); });
        vm.recent = new Loader(function () {
          return api.list('deployments', params({limit: RECENT}));
        });

        vm.apply = function () {
          windowFilter.apply(vm.filter);
          $location.search('service', vm.scope.service || null);
          $location.search('environment', vm.scope.environment || null);
        };
        vm.applyFilter = vm.apply;  // the shared window form submits through this
        vm.preset = function (days) { windowFilter.preset(days); };
        vm.short = function (sha) { return sha ? sha.slice(0, 10) : '\u2013'; };
        vm.waveTitle = function (v, w) {
          var parts = [v.service + ' ' + (v.version || '') + ' in ' + (v.environment || 'any environment') +
                       ', wave ' + (w.wave || '(none)') + ': ' + w.result + ' (' + (DEPLOY_STATES[w.result] || {label: w.result}).label + ')'];
          if (w.started_at) { parts.push('started ' + fmt.utc(w.started_at)); }
          if (w.finished_at) { parts.push('finished ' + fmt.utc(w.finished_at)); }
          if (w.deployment_id !== null && w.deployment_id !== undefined) { parts.push('deployment ' + w.deployment_id); }
          return parts.join('\n');
        };
        vm.replicas = function (d) {
          if (d.replicas === null || d.replicas === undefined) { return '\u2013'; }
          return (d.available_replicas === null ? '?' : d.available_replicas) + '/' + d.replicas;
        };

        function load(quiet) {
          return $q.all([vm.metrics.load(quiet), vm.waves.load(quiet), vm.recent.load(quiet)]);
        }
        readUrl();
        load();
        $scope.$on('$routeUpdate', function () { readUrl(); load(); });
        $scope.$on('radar:refresh', function () { load(true); });
      }]);
})();
