/* The /v1 API: GET with the page's window and project filters, errors as readable text. */
(function () {
  'use strict';

  angular.module('radar')
    .factory('api', ['$http', '$location', function ($http, $location) {
      function describe(resp) {
        if (resp.status <= 0) {
          return 'The radar API could not be reached.';
        }
        var data = resp.data;
        if (data && data.faultstring) {
          return 'The API answered ' + resp.status + ': ' + data.faultstring;
        }
        return 'The API answered ' + resp.status + ' ' + (resp.statusText || '') + '.';
      }

      function get(path, params) {
        return $http.get('v1/' + path, {params: params || {}, timeout: 30000})
          .then(function (resp) { return resp.data; },
                function (resp) { throw new Error(describe(resp)); });
      }

      /* A list and its X-Total-Count (how many match in all, beyond this page). */
      function list(path, params) {
        return $http.get('v1/' + path, {params: params || {}, timeout: 30000})
          .then(function (resp) {
            var total = parseInt(resp.headers('X-Total-Count'), 10);
            return {items: resp.data, total: isNaN(total) ? resp.data.length : total};
          }, function (resp) { throw new Error(describe(resp)); });
      }

      /* since/until/project from the URL (only those given). */
      function window(extra, withProject) {
        var s = $location.search(), out = {};
        ['since', 'until'].forEach(function (k) { if (s[k]) { out[k] = s[k]; } });
        if (withProject !== false && s.project) { out.project = s.project; }
        angular.extend(out, extra || {});
        return out;
      }

      function enc(name) { return encodeURIComponent(name); }

      return {get: get, list: list, window: window, enc: enc};
    }])

    /* loading / error / data state for one page section. */
    .factory('Loader', ['$q', function ($q) {
      return function Loader(fetch) {
        var self = {loading: true, error: null, data: null};
        /* quiet: an auto-refresh; the current data stays on screen meanwhile. */
        self.load = function (quiet) {
          self.loading = !(quiet && self.data);
          self.refreshing = !self.loading;
          self.error = null;
          return $q.when(fetch()).then(function (data) {
            self.data = data;
          }, function (err) {
            self.error = err && err.message ? err.message : String(err);
          }).finally(function () { self.loading = false; self.refreshing = false; });
        };
        return self;
      };
    }])

    /* A sparkline (SVG polyline points) of a series' success rate. */
    .factory('sparkline', function () {
      return function (series, W, H) {
        var n = series.length, pts = [];
        series.forEach(function (p, i) {
          if (p.success_rate !== null) {
            pts.push(((n > 1 ? i / (n - 1) : 0.5) * (W - 4) + 2).toFixed(1) + ',' +
                     ((1 - p.success_rate) * (H - 4) + 2).toFixed(1));
          }
        });
        return {points: pts.join(' '), dots: pts.map(function (p) {
          var xy = p.split(','); return {x: xy[0], y: xy[1]};
        })};
      };
    })

    /* The window picker's state, kept in the URL. */
    .factory('windowFilter', ['$location', function ($location) {
      var PRESETS = [7, 30, 90, 365];
      function isoDay(d) { return d.toISOString().slice(0, 10); }
      return {
        presets: PRESETS,
        read: function () {
          var s = $location.search();
          return {since: s.since || '', until: s.until || '', project: s.project || ''};
        },
        apply: function (f) {
          $location.search('since', f.since || null);
          $location.search('until', f.until || null);
          $location.search('project', f.project || null);
        },
        preset: function (days) {
          var end = new Date();
          var start = new Date(end.getTime() - days * 86400000);
          $location.search('since', isoDay(start));
          $location.search('until', null);
        },
        label: function () {
          var s = $location.search();
          if (!s.since && !s.until) { return 'the last 7 days'; }
          return (s.since || '…') + ' to ' + (s.until || 'now');
        },
        /* Series intervals: daily up to half a year, weekly beyond (the API caps the points). */
        interval: function () {
          var q = $location.search();
          var days = q.since ? ((q.until ? Date.parse(q.until) : Date.now()) -
                                Date.parse(q.since)) / 86400000 : 7;
          return days > 183 ? 'week' : 'day';
        },
        query: function () {
          var s = $location.search(), parts = [];
          ['since', 'until', 'project'].forEach(function (k) {
            if (s[k]) { parts.push(k + '=' + encodeURIComponent(s[k])); }
          });
          return parts.length ? '?' + parts.join('&') : '';
        }
      };
    }]);
})();
