"""radar-api [--config-file F]: serve the API with gunicorn on [api] host:port."""

import logging
import os
import shutil
import sys
import tempfile

from radar import conf as radar_conf
from radar.common import exception

LOG = logging.getLogger(__name__)


def _gunicorn_application(conf, app_factory):
    from gunicorn.app.base import BaseApplication

    class RadarApiServer(BaseApplication):
        def load_config(self):
            settings = {
                "bind": "%s:%d" % (_bind_host(conf.api.host), conf.api.port),
                "workers": conf.api.workers,
                "timeout": conf.api.timeout,
                "graceful_timeout": 10,
                "proc_name": "radar-api",
                # One line per request comes from radar's own access log.
                "accesslog": None,
                "errorlog": "-",
                "loglevel": "debug" if conf.debug else "info",
                "limit_request_line": 8190,
                "child_exit": _child_exit,
            }
            for key, value in settings.items():
                self.cfg.set(key, value)

        def load(self):
            return app_factory()

    return RadarApiServer()


def _bind_host(host):
    return "[%s]" % host if ":" in host and not host.startswith("[") else host


def _child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    try:
        conf = radar_conf.load(argv, prog="radar-api")
    except exception.ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    radar_conf.setup_logging(conf)
    radar_conf.log_values(conf, LOG)
    # Request metrics summed over every worker (set before prometheus_client
    # is imported by the app).
    metrics_dir = None
    if conf.api.metrics and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        metrics_dir = tempfile.mkdtemp(prefix="radar-api-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir

    def factory():
        from radar.api import app

        return app.setup_app(conf)

    LOG.info("radar-api listening on %s:%d with %d workers", conf.api.host, conf.api.port,
             conf.api.workers)
    try:
        _gunicorn_application(conf, factory).run()
    finally:
        if metrics_dir:
            shutil.rmtree(metrics_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
