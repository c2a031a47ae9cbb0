/* Change page: the pipeline view, patch sets x CI systems. */
(function () {
  'use strict';

  angular.module('radar')
    .controller('ChangeController', ['$scope', '$routeParams', '$location', 'api', 'Loader',
      function ($scope, $routeParams, $location, api, Loader) {
        var vm = this;
        vm.number = $routeParams.number;
        vm.change = new Loader(function () {
          var params = {};
          if ($location.search().source) { params.source = $location.search().source; }
          return api.get('changes/' + api.enc(vm.number), params).then(function (c) {
            var names = {};  // system key -> display name
            c.patchsets.forEach(function (ps) {
              ps.bySystem = {};
              (ps.reports || []).forEach(function (r) {
                names[r.system] = r.system_name || r.system;
                (ps.bySystem[r.system] = ps.bySystem[r.system] || []).push(r);
              });
              ps.rechecksBySystem = {};
              (ps.rechecks || []).forEach(function (rc) {
                var key = rc.system || '*';
                (ps.rechecksBySystem[key] = ps.rechecksBySystem[key] || []).push(rc);
              });
            });
            vm.systems = Object.keys(names).sort();
            vm.systemNames = names;
            vm.patchsets = c.patchsets.slice().reverse();  // newest first
            return c;
          });
        });
        vm.change.load();
        $scope.$on('radar:refresh', function () { vm.change.load(true); });
      }]);
})();
