/* Overview: every CI system's health over the window, sortable and filterable;
   the newest events. */
(function () {
  'use strict';

  // Event severity -> symbol and word (shown together: never by colour alone).
  var SEVERITIES = {
    critical: {symbol: '\u2717', label: 'critical'},
    warning: {symbol: '\u26a0', label: 'warning'},
    info: {symbol: '\u2713', label: 'info'}
  };

  angular.module('radar')
    .constant('SEVERITIES', SEVERITIES)
    .controller('OverviewController', ['$scope', '$location', 'api', 'Loader', 'windowFilter',
      'DEFINITIONS', 'sparkline', 'SEVERITIES',
      function ($scope, $location, api, Loader, windowFilter, DEFINITIONS, sparkline,
                SEVERITIES) {
        var vm = this;
        vm.defs = DEFINITIONS;
        vm.wf = windowFilter;
        vm.columns = [
          {key: 'display_name', label: 'CI system'},
          {key: 'health', label: 'Health', def: 'health'},
          {key: 'success_rate', label: 'Success rate', def: 'success_rate'},
          {key: 'coverage', label: 'Coverage', def: 'coverage'},
          {key: 'trend', label: 'Trend', def: 'trend', nosort: true},
          {key: 'latency_p50_s', label: 'Latency p50', def: 'latency_p50_s'},
          {key: 'reports', label: 'Reports', def: 'reports'},
          {key: 'last_seen', label: 'Last seen', def: 'last_seen'}
        ];
        var HEALTH_ORDER = {RED: 0, YELLOW: 1, SILENT: 2, UNKNOWN: 3, GREEN: 4};

        function readUrl() {
          var s = $location.search();
          vm.filter = windowFilter.read();
          vm.q = s.q || '';
          vm.sort = s.sort || 'display_name';
        }

        vm.sparks = {};
        var MAX_SPARKLINES = 60;
        vm.systems = new Loader(function () {
          return api.get('systems', api.window({limit: 1000})).then(function (systems) {
            // The trend of each system (the first ones only on a very large site).
            var interval = windowFilter.interval();
            systems.slice(0, MAX_SPARKLINES).forEach(function (s) {
              api.get('systems/' + api.enc(s.name) + '/series', api.window({interval: interval}))
                .then(function (series) {
                  var line = sparkline(series, 80, 22);
                  vm.sparks[s.name] = {points: line.points, dots: line.dots, n: line.dots.length,
                                       interval: interval};
                }, function () { vm.sparks[s.name] = {error: true}; });
            });
            return systems;
          });
        });

        // The events stream: the newest events, whatever the window.
        var EVENTS_SHOWN = 20;
        vm.severities = SEVERITIES;
        vm.events = new Loader(function () {
          return api.get('events', {limit: EVENTS_SHOWN});
        });
        /* The subject's page inside this app (the API gives an absolute link). */
        vm.eventLink = function (e) {
          var i = (e.url || '').indexOf('#/');
          return i >= 0 ? e.url.slice(i) : e.url;
        };

        vm.sortKey = function () { return vm.sort.replace(/^-/, ''); };
        vm.sortDesc = function () { return vm.sort.charAt(0) === '-'; };
        vm.ariaSort = function (key) {
          if (vm.sortKey() !== key) { return 'none'; }
          return vm.sortDesc() ? 'descending' : 'ascending';
        };
        vm.sortBy = function (key) {
          vm.sort = vm.sortKey() === key && !vm.sortDesc() ? '-' + key : key;
          $location.search('sort', vm.sort === 'display_name' ? null : vm.sort);
        };
        vm.setQuery = function () { $location.search('q', vm.q || null).replace(); };

        vm.rows = function () {
          var data = vm.systems.data || [], q = (vm.q || '').toLowerCase();
          var rows = data.filter(function (s) {
            return !q || s.name.toLowerCase().indexOf(q) >= 0 ||
              (s.display_name || '').toLowerCase().indexOf(q) >= 0;
          });
          var key = vm.sortKey(), sign = vm.sortDesc() ? -1 : 1;
          rows.sort(function (a, b) {
            var x = a[key], y = b[key];
            if (key === 'health') { x = HEALTH_ORDER[x]; y = HEALTH_ORDER[y]; }
            if (key === 'display_name') { x = (x || '').toLowerCase(); y = (y || '').toLowerCase(); }
            var xn = x === null || x === undefined, yn = y === null || y === undefined;
            if (xn || yn) { return xn === yn ? a.id - b.id : (xn ? 1 : -1); }  // missing last
            if (x < y) { return -sign; }
            if (x > y) { return sign; }
            return a.id - b.id;
          });
          return rows;
        };

        vm.applyFilter = function () { windowFilter.apply(vm.filter); };
        vm.preset = function (days) { windowFilter.preset(days); };
        vm.link = function (s) { return '#/system/' + api.enc(s.name) + windowFilter.query(); };

        readUrl();
        vm.systems.load();
        vm.events.load();
        var lastWindow = windowFilter.query();
        $scope.$on('$routeUpdate', function () {
          readUrl();
          if (windowFilter.query() !== lastWindow) {
            lastWindow = windowFilter.query();
            vm.systems.load();
          }
        });
        $scope.$on('radar:refresh', function () {
          vm.systems.load(true);
          vm.events.load(true);
        });
      }]);
})();
