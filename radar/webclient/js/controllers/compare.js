/* Compare: two or more CI systems over the same window and patch sets. */
(function () {
  'use strict';

  angular.module('radar')
    .controller('CompareController', ['$scope', '$location', '$q', 'api', 'Loader', 'windowFilter',
      'DEFINITIONS',
      function ($scope, $location, $q, api, Loader, windowFilter, DEFINITIONS) {
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
        // Overlaid success rate lines, one colour per system (colour-blind safe palette).
        var COLOURS = ['#0072b2', '#d55e00', '#009e73', '#cc79a7', '#e69f00', '#56b4e9', '#000000'];
        vm.interval = windowFilter.interval();
        vm.trend = new Loader(function () {
          var W = 720, H = 200, L = 44, R = 16, T = 12, B = 30;
          return $q.all(vm.names().map(function (name) {
            return api.get('systems/' + api.enc(name) + '/series', api.window({interval: vm.interval}));
          })).then(function (all) {
            var n = all.length ? all[0].length : 0, step = n ? (W - L - R) / n : 0;
            var lines = all.map(function (series, k) {
              var segs = [], cur = [], dots = [];
              series.forEach(function (p, i) {
                if (p.success_rate === null) {
                  if (cur.length) { segs.push(cur.join(' ')); cur = []; }
                  return;
                }
                var x = L + step * (i + 0.5), y = T + (1 - p.success_rate) * (H - T - B);
                cur.push(x.toFixed(1) + ',' + y.toFixed(1));
                dots.push({cx: x, cy: y, title: vm.names()[k] + ' ' + p.start.slice(0, 10) + ': ' +
                           (p.success_rate * 100).toFixed(1) + '%'});
              });
              if (cur.length) { segs.push(cur.join(' ')); }
              return {name: vm.names()[k], colour: COLOURS[k % COLOURS.length], segs: segs, dots: dots};
            });
            var every = Math.max(1, Math.ceil(n / 8)), labels = [];
            (all[0] || []).forEach(function (p, i) {
              if (i % every === 0) { labels.push({x: L + step * (i + 0.5), text: p.start.slice(5, 10)}); }
            });
            return {W: W, H: H, L: L, R: R, lines: lines, labels: labels,
                    grid: [0, 0.5, 1].map(function (r) { return {y: T + (1 - r) * (H - T - B), label: (r * 100) + '%'}; })};
          });
        });
        vm.compare = function () {
          $location.search('systems', vm.names().length ? vm.names().join(',') : null);
        };
        vm.applyFilter = function () { windowFilter.apply(vm.filter); };
        vm.preset = function (days) { windowFilter.preset(days); };
        vm.query = windowFilter.query();

        function load(quiet) {
          vm.all.load(quiet);
          if (vm.names().length >= 2) {
            vm.result.load(quiet);
            vm.trend.load(quiet);
          } else {
            vm.result.loading = vm.trend.loading = false;
          }
        }
        load();
        $scope.$on('radar:refresh', function () { load(true); });
      }]);
})();
