/* Releases: the releases x tasks heatmap, task durations; one release with its tabs. */
(function () {
  'use strict';

  // The heatmap asks for this many releases in one request (the API's limit for it).
  var HEATMAP_LIMIT = 1000;
  var TABS = [
    {key: 'advisories', label: 'Advisories'},
    {key: 'builds', label: 'Builds'},
    {key: 'jira', label: 'Jira'},
    {key: 'shipment', label: 'Shipment'},
    {key: 'history', label: 'Task history'}
  ];

  /* The task columns: every task seen, in workflow order (lowest position first). */
  function taskColumns(releases) {
    var pos = {};
    releases.forEach(function (r) {
      (r.tasks || []).forEach(function (t) {
        if (!(t.name in pos) || t.position < pos[t.name]) { pos[t.name] = t.position; }
      });
    });
    return Object.keys(pos).sort(function (a, b) {
      return (pos[a] - pos[b]) || (a < b ? -1 : a > b ? 1 : 0);
    });
  }

  angular.module('radar')
    .controller('ReleaseListController', ['$scope', '$location', 'api', 'Loader',
      'TASK_STATES', 'RELEASE_DEFINITIONS',
      function ($scope, $location, api, Loader, TASK_STATES, RELEASE_DEFINITIONS) {
        var vm = this;
        vm.states = TASK_STATES;
        vm.defs = RELEASE_DEFINITIONS;
        vm.legend = ['PASS', 'IN_PROGRESS', 'FAIL', 'NOT_STARTED'];

        function readUrl() {
          var s = $location.search();
          vm.filter = {product: s.product || '', status: s.status || '', done: s.done || ''};
        }
        function params(extra) {
          var p = angular.extend({}, extra);
          ['product', 'status', 'done'].forEach(function (k) { if (vm.filter[k]) { p[k] = vm.filter[k]; } });
          return p;
        }

        vm.releases = new Loader(function () {
          return api.list('releases', params({limit: HEATMAP_LIMIT})).then(function (page) {
            var counts = {GREEN: 0, RED: 0, done: 0, shipped: 0};
            page.items.forEach(function (r) {
              counts[r.status] = (counts[r.status] || 0) + 1;
              if (r.done) { counts.done += 1; }
              if (r.shipped) { counts.shipped += 1; }
            });
            vm.tasks = taskColumns(page.items);
            vm.counts = counts;
            vm.products = Object.keys(page.items.reduce(function (acc, r) {
              acc[r.product] = true; return acc;
            }, {})).sort();
            return page;
          });
        });
        vm.stats = new Loader(function () {
          var p = vm.filter.product ? {product: vm.filter.product} : {};
          return api.get('releases/tasks/stats', p);
        });

        vm.apply = function () {
          ['product', 'status', 'done'].forEach(function (k) {
            $location.search(k, vm.filter[k] || null);
          });
        };

        // The durations after the heatmap: its one request goes first, and
        // there is nothing to add when the releases cannot be read.
        function load(quiet) {
          return vm.releases.load(quiet).then(function () {
            if (!vm.releases.error) { return vm.stats.load(quiet); }
            vm.stats.loading = false;
          });
        }
        readUrl();
        load();
        $scope.$on('$routeUpdate', function () { readUrl(); load(); });
        $scope.$on('radar:refresh', function () { load(true); });
      }])

    .controller('ReleaseController', ['$scope', '$routeParams', '$location', 'api', 'Loader',
      'TASK_STATES', 'RELEASE_DEFINITIONS',
      function ($scope, $routeParams, $location, api, Loader, TASK_STATES, RELEASE_DEFINITIONS) {
        var vm = this;
        vm.version = $routeParams.version;
        vm.states = TASK_STATES;
        vm.defs = RELEASE_DEFINITIONS;
        vm.tabs = TABS;

        function readTab() {
          var tab = $location.search().tab;
          vm.tab = TABS.some(function (t) { return t.key === tab; }) ? tab : TABS[0].key;
        }

        vm.release = new Loader(function () {
          return api.get('releases/' + api.enc(vm.version)).then(function (r) {
            // How long each task stayed in the status it left (time since its previous transition).
            var last = {};
            var history = (r.history || []).slice().sort(function (a, b) {
              return a.at < b.at ? -1 : a.at > b.at ? 1 : 0;
            });
            history.forEach(function (e) {
              e.after_s = last[e.task] ? (Date.parse(e.at) - Date.parse(last[e.task])) / 1000 : null;
              last[e.task] = e.at;
            });
            vm.history = history.reverse();  // newest first
            vm.builds = Object.keys(r.builds || {}).sort().map(function (arch) {
              return {arch: arch, build: r.builds[arch]};
            });
            // The API answers a shipment object even when nothing about it is known.
            var sh = r.shipment;
            vm.hasShipment = !!(sh && (sh.url || sh.state || sh.shipped));
            vm.r = r;
            return r;
          });
        });

        vm.select = function (key) {
          vm.tab = key;
          $location.search('tab', key === TABS[0].key ? null : key).replace();
        };
        /* Arrow keys move between the tabs (the WAI-ARIA tabs pattern). */
        vm.keydown = function (event) {
          var i = TABS.map(function (t) { return t.key; }).indexOf(vm.tab), next = null;
          if (event.key === 'ArrowRight') { next = (i + 1) % TABS.length; }
          if (event.key === 'ArrowLeft') { next = (i + TABS.length - 1) % TABS.length; }
          if (event.key === 'Home') { next = 0; }
          if (event.key === 'End') { next = TABS.length - 1; }
          if (next === null) { return; }
          event.preventDefault();
          vm.select(TABS[next].key);
          var el = document.getElementById('tab-' + TABS[next].key);
          if (el) { el.focus(); }
        };
        vm.isUrl = function (s) { return typeof s === 'string' && /^https?:\/\//.test(s); };

        readTab();
        vm.release.load();
        $scope.$on('$routeUpdate', readTab);
        $scope.$on('radar:refresh', function () { vm.release.load(true); });
      }]);
})();
