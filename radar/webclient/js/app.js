/* radar web client: an AngularJS 1.8 single page app over the /v1 API. */
(function () {
  'use strict';

  angular.module('radar', ['ngRoute'])
    .config(['$routeProvider', '$locationProvider', '$compileProvider',
      function ($routeProvider, $locationProvider, $compileProvider) {
        $locationProvider.hashPrefix('');
        $compileProvider.debugInfoEnabled(false);
        var tpl = function (name) { return 'static/templates/' + name + '.html'; };
        $routeProvider
          .when('/', {templateUrl: tpl('overview'), controller: 'OverviewController',
                      controllerAs: 'vm', reloadOnSearch: false})
          .when('/system/:id', {templateUrl: tpl('system'), controller: 'SystemController',
                                controllerAs: 'vm'})
          .when('/change/:number', {templateUrl: tpl('change'), controller: 'ChangeController',
                                    controllerAs: 'vm'})
          .when('/projects', {templateUrl: tpl('projects'), controller: 'ProjectListController',
                              controllerAs: 'vm'})
          .when('/project/:name*', {templateUrl: tpl('project'), controller: 'ProjectController',
                                    controllerAs: 'vm'})
          .when('/compare', {templateUrl: tpl('compare'), controller: 'CompareController',
                             controllerAs: 'vm'})
          .when('/releases', {templateUrl: tpl('releases'), controller: 'ReleaseListController',
                              controllerAs: 'vm', reloadOnSearch: false})
          .when('/release/:version', {templateUrl: tpl('release'), controller: 'ReleaseController',
                                      controllerAs: 'vm', reloadOnSearch: false})
          .when('/deployments', {templateUrl: tpl('deployments'),
                                 controller: 'DeploymentsController', controllerAs: 'vm',
                                 reloadOnSearch: false})
          .otherwise({templateUrl: tpl('notfound')});
      }])
    .run(['$rootScope', '$window', function ($rootScope, $window) {
      // Focus the new page's content for keyboard and screen reader users.
      $rootScope.$on('$routeChangeSuccess', function () {
        var main = $window.document.getElementById('main');
        if (main && $window.document.activeElement &&
            $window.document.activeElement.tagName !== 'INPUT' &&
            $window.document.activeElement.tagName !== 'SELECT') {
          main.scrollIntoView();
        }
      });
    }]);
})();
