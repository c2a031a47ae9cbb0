/* Compare: two or more CI systems over the same window and patch sets. */
(function () {
  'use strict';

  angular.module('radar')
    .controller('CompareController', ['$scope', '$location', 'api', 'Loader', 'windowFilter',
      'DEFINITIONS',
      function ($scope, $location, api, Loader, windowFilter, DEFINITIONS) {
        var vm = this;
        vm.defs = DEFINITIONS;
        vm.wf = windowFilter;
        vm.filter = windowFilter.read();
        vm.selected = {};
        ($location.search().systems || '').split(',').forEach(function (n) {
          if (n) { vm.selected[n] = true; }
        });
        vm.metrics = [
          {key: 'health', label: 'Health', def: 'health'},
          {key: 'success_rate', label: 'Success rate', pct: true},
          {key: 'first_attempt_success_rate', label: 'First attempt success', pct: true},
          {key: 'coverage', label: 'Coverage', pct: true},
          {key: 'missed', label: 'Missed'},
          {key: 'latency_p50_s', label: 'Latency p50', duration: true},
          {key: 'latency_p90_s', label: 'Latency p90', duration: true},
          {key: 'flake_rate', label: 'Flake rate', pct: true},
          {key: 'reports', label: 'Reports'},
          {key: 'last_seen', label: 'Last seen', utc: true}
        ];
        vm.all = new Loader(function () { return api.get('systems', api.window({limit: 1000})); });
        vm.names = function () { return Object.keys(vm.selected).filter(function (k) { return vm.selected[k]; }).sort(); };
        vm.result = new Loader(function () {
          return api.get('compare', api.window({systems: vm.names().join(',')}));
        });
        vm.compare = function () {
          $location.search('systems', vm.names().length ? vm.names().join(',') : null);
        };
        vm.applyFilter = function () { windowFilter.apply(vm.filter); };
        vm.preset = function (days) { windowFilter.preset(days); };
        vm.query = windowFilter.query();

        function load(quiet) {
          vm.all.load(quiet);
          if (vm.names().length >= 2) { vm.result.load(quiet); } else { vm.result.loading = false; }
        }
        load();
        $scope.$on('radar:refresh', function () { load(true); });
      }]);
})();
