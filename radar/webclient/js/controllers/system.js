/* System page: trend, missed patch sets, jobs, recent reports, badge. */
(function () {
  'use strict';

  /* A hand-written SVG chart of daily success rate (line) and volume (bars). */
  function trendChart(series) {
    var W = 720, H = 220, L = 44, R = 44, T = 12, B = 30;
    var n = series.length, maxVol = 1;
    series.forEach(function (p) { maxVol = Math.max(maxVol, p.reports); });
    var step = n ? (W - L - R) / n : 0;
    var x = function (i) { return L + step * (i + 0.5); };
    var yRate = function (r) { return T + (1 - r) * (H - T - B); };
    var yVol = function (v) { return H - B - v / maxVol * (H - T - B); };
    var bars = [], segs = [], cur = [], dots = [];
    series.forEach(function (p, i) {
      bars.push({x: x(i) - step * 0.35, w: Math.max(1, step * 0.7), y: yVol(p.reports),
                 h: H - B - yVol(p.reports), title: p.start.slice(0, 10) + ': ' + p.reports + ' reports'});
      if (p.success_rate === null) {
        if (cur.length) { segs.push(cur); cur = []; }
      } else {
        cur.push(x(i).toFixed(1) + ',' + yRate(p.success_rate).toFixed(1));
        dots.push({cx: x(i), cy: yRate(p.success_rate),
                   title: p.start.slice(0, 10) + ': ' + (p.success_rate * 100).toFixed(1) +
                          '% of ' + p.reports + ' reports succeeded'});
      }
    });
    if (cur.length) { segs.push(cur); }
    var labels = [];
    var every = Math.max(1, Math.ceil(n / 8));
    series.forEach(function (p, i) {
      if (i % every === 0) { labels.push({x: x(i), text: p.start.slice(5, 10)}); }
    });
    return {W: W, H: H, L: L, R: R, T: T, B: B, bars: bars, dots: dots, maxVol: maxVol,
            lines: segs.map(function (s) { return s.join(' '); }), labels: labels,
            grid: [0, 0.5, 1].map(function (r) { return {y: yRate(r), label: (r * 100) + '%'}; })};
  }

  /* Latency p50 and p90 lines (seconds, axis in minutes). */
  function latencyChart(series) {
    var W = 720, H = 200, L = 52, R = 16, T = 12, B = 30;
    var n = series.length, max = 60;
    series.forEach(function (p) {
      max = Math.max(max, p.latency_p90_s || 0, p.latency_p50_s || 0);
    });
    var step = n ? (W - L - R) / n : 0;
    var x = function (i) { return L + step * (i + 0.5); };
    var y = function (v) { return T + (1 - v / max) * (H - T - B); };
    function line(key, colour) {
      var segs = [], cur = [], dots = [];
      series.forEach(function (p, i) {
        if (p[key] === null) {
          if (cur.length) { segs.push(cur.join(' ')); cur = []; }
          return;
        }
        cur.push(x(i).toFixed(1) + ',' + y(p[key]).toFixed(1));
        dots.push({cx: x(i), cy: y(p[key]), title: p.start.slice(0, 10) + ': ' +
                   Math.round(p[key] / 60) + ' min'});
      });
      if (cur.length) { segs.push(cur.join(' ')); }
      return {key: key, colour: colour, segs: segs, dots: dots};
    }
    var every = Math.max(1, Math.ceil(n / 8)), labels = [];
    series.forEach(function (p, i) {
      if (i % every === 0) { labels.push({x: x(i), text: p.start.slice(5, 10)}); }
    });
    return {W: W, H: H, L: L, R: R, B: B, labels: labels,
            lines: [line('latency_p50_s', '#0550ae'), line('latency_p90_s', '#8250df')],
            grid: [0, 0.5, 1].map(function (f) {
              return {y: y(max * f), label: Math.round(max * f / 60) + ' min'};
            })};
  }

  angular.module('radar')
    .controller('SystemController', ['$scope', '$routeParams', '$location', '$q', 'api',
      'Loader', 'windowFilter', 'DEFINITIONS',
      function ($scope, $routeParams, $location, $q, api, Loader, windowFilter, DEFINITIONS) {
        var vm = this, id = $routeParams.id, path = 'systems/' + api.enc(id);
        vm.id = id;
        vm.defs = DEFINITIONS;
        vm.wf = windowFilter;
        vm.filter = windowFilter.read();
        vm.query = windowFilter.query();
        vm.system = new Loader(function () { return api.get(path, api.window()); });
        vm.interval = windowFilter.interval();
        vm.series = new Loader(function () {
          return api.get(path + '/series', api.window({interval: vm.interval})).then(function (s) {
            vm.chart = trendChart(s);
            vm.latency = latencyChart(s);
            return s;
          });
        });
        vm.missed = new Loader(function () { return api.get(path + '/missed', api.window({limit: 20})); });
        vm.jobs = new Loader(function () {
          return api.get(path + '/jobs', api.window({sort: '-flaky', limit: 200})).then(function (jobs) {
            // Flaky jobs first, then the most run.
            return jobs.slice().sort(function (a, b) {
              return (b.flaky - a.flaky) || (b.runs - a.runs) || (a.name < b.name ? -1 : 1);
            });
          });
        });
        vm.reports = new Loader(function () { return api.get(path + '/reports', api.window({limit: 20})); });

        vm.changeLink = function (r) { return '#/change/' + r.change; };
        vm.applyFilter = function () { windowFilter.apply(vm.filter); };
        vm.preset = function (days) { windowFilter.preset(days); };
        vm.badgeUrl = function () {
          var base = $location.absUrl().split('#')[0].replace(/[^/]*$/, '');
          return base + 'v1/systems/' + api.enc(vm.system.data ? vm.system.data.name : id) + '/badge.svg';
        };
        vm.jobResults = function (results) {
          return Object.keys(results || {}).sort().map(function (k) { return k + ' ' + results[k]; }).join(', ');
        };

        function loadAll(quiet) {
          return $q.all([vm.system.load(quiet), vm.series.load(quiet), vm.missed.load(quiet),
                         vm.jobs.load(quiet), vm.reports.load(quiet)]);
        }
        loadAll();
        $scope.$on('radar:refresh', function () { loadAll(true); });
      }]);
})();
