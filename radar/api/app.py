"""setup_app(conf): the WSGI application (Pecan + WSME + JSON error middleware)."""

import logging

import pecan

from radar.api import cache as response_cache
from radar.api import hooks, metrics, middleware, root
from radar.db import engine as db_engine

LOG = logging.getLogger(__name__)


def setup_app(conf, engine=None, cache=True):
    """Build the WSGI app for `conf`; `engine` defaults to one from [database].

    `cache`: True for the statistics response cache configured in [api]
    (radar.api.cache), False for none, or a ResponseCache to use.
    """
    engine = engine if engine is not None else db_engine.create_engine(conf)
    sessionmaker = db_engine.make_sessionmaker(engine)
    app = pecan.make_app(
        root.RootController(),
        hooks=[hooks.ConfigHook(conf), hooks.DBSessionHook(sessionmaker), hooks.AuthHook()],
        guess_content_type_from_ext=False,
        force_canonical=False,
        debug=False,
        logging={},
    )
    collector = metrics.Metrics(conf, sessionmaker) if conf.api.metrics else None
    if cache is True:
        cache = response_cache.ResponseCache.from_conf(conf, engine)
    elif cache is False:
        cache = None
    wrapped = middleware.ApiMiddleware(app, conf, metrics=collector, cache=cache)
    wrapped.engine = engine
    return wrapped
