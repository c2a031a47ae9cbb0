/* Projects: who runs CI on each project and how each does. */
(function () {
  'use strict';

  angular.module('radar')
    .controller('ProjectListController', ['$scope', '$location', 'api', 'Loader', 'windowFilter',
      function ($scope, $location, api, Loader, windowFilter) {
        var vm = this;
        vm.wf = windowFilter;
        vm.noProject = true;
        vm.filter = windowFilter.read();
        vm.q = $location.search().q || '';
        vm.query = windowFilter.query();
        vm.projects = new Loader(function () {
          return api.get('projects', api.window({limit: 1000, q: vm.q || undefined}, false));
        });
        vm.setQuery = function () { $location.search('q', vm.q || null); };
        vm.applyFilter = function () { windowFilter.apply(vm.filter); };
        vm.preset = function (days) { windowFilter.preset(days); };
        vm.link = function (p) { return '#/project/' + p.name + windowFilter.query(); };
        vm.projects.load();
        $scope.$on('radar:refresh', function () { vm.projects.load(true); });
      }])
    .controller('ProjectController', ['$scope', '$routeParams', 'api', 'Loader', 'windowFilter',
      'DEFINITIONS',
      function ($scope, $routeParams, api, Loader, windowFilter, DEFINITIONS) {
        var vm = this;
        vm.name = $routeParams.name;
        vm.defs = DEFINITIONS;
        vm.wf = windowFilter;
        vm.noProject = true;
        vm.filter = windowFilter.read();
        vm.query = windowFilter.query();
        vm.project = new Loader(function () {
          return api.get('projects/' + vm.name.split('/').map(api.enc).join('/'),
                         api.window({}, false));
        });
        vm.applyFilter = function () { windowFilter.apply(vm.filter); };
        vm.preset = function (days) { windowFilter.preset(days); };
        vm.project.load();
        $scope.$on('radar:refresh', function () { vm.project.load(true); });
      }]);
})();
