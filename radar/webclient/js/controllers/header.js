/* Header: data freshness from /v1/collector and the auto-refresh switch. */
(function () {
  'use strict';

  angular.module('radar')
    .controller('HeaderController', ['$rootScope', '$interval', '$location', '$window', 'api', 'fmt',
      function ($rootScope, $interval, $location, $window, api, fmt) {
        var vm = this, timer = null;
        vm.loading = true;
        vm.error = null;
        vm.problems = [];
        vm.autoRefresh = false;

        vm.isActive = function (prefix) {
          var path = $location.path();
          if (prefix === '/') { return path === '/' || path.indexOf('/system') === 0; }
          return path.indexOf(prefix) === 0;
        };

        vm.load = function () {
          api.get('collector').then(function (sources) {
            vm.error = null;
            vm.sources = sources;
            vm.lastSuccess = null;
            vm.problems = [];
            sources.forEach(function (s) {
              if (s.last_success_at && (!vm.lastSuccess || s.last_success_at > vm.lastSuccess)) {
                vm.lastSuccess = s.last_success_at;
              }
              if (!s.last_success_at) {
                vm.problems.push('source ' + s.name + ' has never been collected');
              } else if (s.stale) {
                vm.problems.push('source ' + s.name + ' last collected ' +
                                 fmt.utc(s.last_success_at) + ' (' + fmt.duration(s.lag_s) + ' ago)');
              }
              if (s.last_error && s.last_error_at &&
                  (!s.last_success_at || s.last_error_at > s.last_success_at)) {
                vm.problems.push('collecting ' + s.name + ' is failing: ' + s.last_error);
              }
            });
            if (!sources.length) { vm.problems.push('no Gerrit source is configured'); }
          }, function (err) {
            vm.error = err.message;
          }).finally(function () { vm.loading = false; });
        };

        vm.toggleRefresh = function () {
          if (timer) { $interval.cancel(timer); timer = null; }
          if (vm.autoRefresh) {
            timer = $interval(function () {
              vm.load();
              $rootScope.$broadcast('radar:refresh');
            }, $window.radarRefreshMs || 60000);  // tests shorten the period
          }
        };

        vm.load();
        // A new page (or new filters) checks freshness again.
        $rootScope.$on('$routeChangeSuccess', function (event, current, previous) {
          if (previous) { vm.load(); }
        });
      }]);
})();
