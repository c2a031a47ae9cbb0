"""`radar.api.wsgi:application` for any WSGI server (gunicorn, uwsgi, mod_wsgi).

The configuration comes from the files named in RADAR_CONFIG_FILE
(comma-separated), else from oslo.config's default places
(~/.radar/radar.conf, /etc/radar/radar.conf, ...).
"""

import logging
import os

from radar import conf as radar_conf
from radar.api import app as api_app

LOG = logging.getLogger(__name__)


def _config_files():
    value = os.environ.get("RADAR_CONFIG_FILE", "").strip()
    if not value:
        return None
    return [p.strip() for p in value.split(",") if p.strip()]


def init_application(argv=None):
    files = _config_files()
    args = list(argv or [])
    conf = radar_conf.load(args, default_config_files=files, prog="radar-api")
    radar_conf.setup_logging(conf)
    radar_conf.log_values(conf, LOG)
    return api_app.setup_app(conf)


application = init_application()
