/* <radar-subscribe filter="systems" value="zuul" types="system.health_changed,...">:
   a small form that subscribes to the events of one subject (a CI system, a
   release product...) through POST /v1/subscriptions.

   The token is typed in each time and kept only in this form's scope (never
   in storage or the URL); a webhook's signing secret is shown once, after
   the subscription is made, as the API returns it once. */
(function () {
  'use strict';

  angular.module('radar')
    .directive('radarSubscribe', ['$http', function ($http) {
      return {
        restrict: 'E',
        scope: {filter: '@', value: '@', types: '@'},
        templateUrl: 'static/templates/subscribe.html',
        link: function (scope) {
          var uid = Math.random().toString(36).slice(2, 8);
          scope.uid = uid;
          scope.open = false;
          scope.kinds = [
            {id: 'webhook', label: 'Webhook (signed JSON)', placeholder: 'https://hooks.example.org/radar'},
            {id: 'slack', label: 'Slack incoming webhook', placeholder: 'https://hooks.slack.com/services/…'},
            {id: 'email', label: 'E-mail', placeholder: 'ops@example.org'}
          ];
          scope.form = {kind: 'webhook', target: '', name: '', token: '', types: {}};
          scope.$watch('types', function (types) {
            scope.typeList = (types || '').split(',').filter(function (t) { return t; });
            scope.typeList.forEach(function (t) { scope.form.types[t] = true; });
          });
          scope.placeholder = function () {
            for (var i = 0; i < scope.kinds.length; i++) {
              if (scope.kinds[i].id === scope.form.kind) { return scope.kinds[i].placeholder; }
            }
            return '';
          };

          scope.submit = function () {
            var f = scope.form, filters = {};
            filters[scope.filter] = [scope.value];
            var chosen = scope.typeList.filter(function (t) { return f.types[t]; });
            if (chosen.length) { filters.types = chosen; }
            scope.busy = true;
            scope.error = null;
            scope.created = null;
            $http.post('v1/subscriptions', {
              name: f.name || (scope.value + ' events'), kind: f.kind,
              target: f.target, filters: filters
            }, {headers: {Authorization: 'Bearer ' + f.token}, timeout: 30000})
              .then(function (resp) {
                scope.created = resp.data;
                f.target = '';
              }, function (resp) {
                var data = resp.data;
                scope.error = resp.status <= 0 ? 'The radar API could not be reached.' :
                  (data && data.faultstring ? data.faultstring : 'The API answered ' + resp.status + '.');
              })
              .finally(function () {
                scope.busy = false;
                // Not kept: the next subscription asks for it again.
                f.token = '';
              });
          };
        }
      };
    }]);
})();
