/* The releases x tasks heatmap as one rendered table.

   Hundreds of releases times the workflow's tasks would be thousands of
   ng-repeat scopes and watchers; the table is static once drawn, so it is
   built as one HTML string (every value escaped) under a single watch of
   the data, and redrawn only when a new answer arrives. */
(function () {
  'use strict';

  var ESC = {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'};
  function esc(v) {
    return v === null || v === undefined ? '' : String(v).replace(/[&<>"']/g, function (c) { return ESC[c]; });
  }

  angular.module('radar')
    .directive('radarHeatmap', ['$window', 'fmt', 'deliveryFmt', 'TASK_STATES', 'RELEASE_DEFINITIONS',
      function ($window, fmt, deliveryFmt, TASK_STATES, RELEASE_DEFINITIONS) {

        function cellTitle(release, t) {
          var st = TASK_STATES[t.status] || {label: t.status};
          var lines = [release.version + ' \u00b7 ' + t.name + ': ' + t.status + ' (' + st.label + ')'];
          if (t.started_at) { lines.push('started ' + fmt.utc(t.started_at)); }
          if (t.finished_at) { lines.push('finished ' + fmt.utc(t.finished_at)); }
          if (t.duration_s !== null && t.duration_s !== undefined) {
            lines.push('duration ' + deliveryFmt.duration(t.duration_s));
          }
          if (t.message) { lines.push(t.message); }
          return lines.join('\n');
        }

        /* Fixed column widths (em): the browser lays the table out from them
           instead of measuring thousands of cells. */
        var W = {version: 9, status: 5.5, task: 2.4, progress: 9.5, target: 7.5};

        function render(releases, tasks) {
          var width = W.version + W.status + W.task * tasks.length + W.progress + W.target;
          var out = ['<table class="grid heatmap" id="heatmap" style="width:', width, 'em">',
            '<caption class="sr-only">Releases (newest first) by release task; ',
            'each cell is the task\'s status</caption><colgroup>',
            '<col style="width:', W.version, 'em"><col style="width:', W.status, 'em">'];
          tasks.forEach(function () { out.push('<col style="width:', W.task, 'em">'); });
          out.push('<col style="width:', W.progress, 'em"><col style="width:', W.target, 'em">',
                   '</colgroup><thead><tr><th scope="col" class="corner">Release</th>',
                   '<th scope="col" title="', esc(RELEASE_DEFINITIONS.status), '">Status</th>');
          tasks.forEach(function (name) {
            out.push('<th scope="col" class="task" data-task="', esc(name), '" title="', esc(name),
                     '"><span>', esc(name), '</span></th>');
          });
          out.push('<th scope="col">Progress</th><th scope="col">Target</th></tr></thead><tbody>');
          releases.forEach(function (r) {
            var byName = {};
            (r.tasks || []).forEach(function (t) { byName[t.name] = t; });
            out.push('<tr data-release="', esc(r.version), '">',
                     '<th scope="row" class="version" title="', esc(r.version + ' (' + r.product + ')'),
                     '"><a href="#/release/', esc(encodeURIComponent(r.version)), '">', esc(r.version),
                     '</a></th><td class="status"><span class="pill h-', esc(r.status), '" title="',
                     esc(RELEASE_DEFINITIONS.status), '">', esc(r.status), '</span></td>');
            tasks.forEach(function (name) {
              var t = byName[name];
              if (!t) {
                out.push('<td class="cell-none" data-task="', esc(name), '" aria-label="none" title="',
                         esc(r.version + ': no task ' + name + ' in its workflow'), '"></td>');
                return;
              }
              var st = TASK_STATES[t.status] || {symbol: '?', label: t.status};
              // The symbol is for the eye; aria-label gives the word to screen readers.
              out.push('<td class="t t-', esc(t.status), '" data-task="', esc(name), '" data-status="',
                       esc(t.status), '" aria-label="', esc(name + ': ' + t.status), '" title="',
                       esc(cellTitle(r, t)), '"><span aria-hidden="true">', st.symbol, '</span></td>');
            });
            out.push('<td class="progress">',
                     r.done ? '<span class="tag" title="' + esc(RELEASE_DEFINITIONS.done) + '">done</span> ' : '',
                     r.shipped ? '<span class="tag" title="' + esc(RELEASE_DEFINITIONS.shipped) +
                                 '">shipped</span>' : '',
                     '</td><td>', esc(r.target_date || '\u2013'), '</td></tr>');
          });
          out.push('</tbody></table>');
          return out.join('');
        }

        return {
          restrict: 'E',
          scope: {releases: '<', tasks: '<'},
          link: function (scope, element) {
            scope.$watch('releases', function (releases) {
              if (!releases) { element.html(''); return; }
              var start = $window.performance.now();
              element[0].innerHTML = render(releases, scope.tasks || []);
              // Reading the height forces the layout, so the time includes it.
              element.attr('data-height', element[0].offsetHeight);
              var ms = $window.performance.now() - start;
              // Exposed for the browser test's measurement (and anyone curious).
              element.attr('data-render-ms', ms.toFixed(1));
              element.attr('data-cells', releases.length * (scope.tasks || []).length);
            });
          }
        };
      }]);
})();
