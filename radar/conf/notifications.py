from oslo_config import cfg

GROUP = cfg.OptGroup("notifications", title="Subscriptions and their delivery")

OPTS = [
    cfg.IntOpt("health_hold", default=600, min=0,
               help="Seconds a CI system's new health must last before an event "
                    "says so; a system whose numbers sit on a threshold would "
                    "otherwise change health, and notify, every cycle. 0: at once."),
    cfg.BoolOpt("sender", default=True,
                help="Run the delivery sender in 'radar-daemon run' (its own thread, so "
                     "a slow receiver never delays collection). Turn it off on all but "
                     "one group of daemons if you want sending elsewhere; several "
                     "senders on one database never send a delivery at the same time."),
    cfg.IntOpt("poll_interval", default=5, min=1,
               help="Seconds between two sender cycles (match new events to "
                    "subscriptions, send what is due)."),
    cfg.IntOpt("batch_size", default=20, min=1, max=1000,
               help="Deliveries a sender claims and sends in one cycle."),
    cfg.FloatOpt("http_timeout", default=10.0, min=0.1,
                 help="Seconds to wait for a webhook or Slack receiver to connect, "
                      "and again for each read of its answer."),
    cfg.StrOpt("http_proxy",
               help="Proxy URL for webhook and Slack requests. The process "
                    "environment's proxy variables are not used."),
    cfg.IntOpt("retry_backoff_base", default=30, min=1,
               help="Seconds before the first retry; each further retry waits "
                    "twice as long (with random jitter), up to retry_backoff_max."),
    cfg.IntOpt("retry_backoff_max", default=3600, min=1,
               help="Longest wait between two attempts, in seconds."),
    cfg.IntOpt("max_retry_age", default=86400, min=60,
               help="Seconds after which a delivery that still failed is given up "
                    "(marked FAILED)."),
    cfg.IntOpt("pause_after_failures", default=10, min=1,
               help="Consecutive failed attempts after which a subscription is "
                    "paused (it says why; 'radar subscription resume' restarts it)."),
    cfg.StrOpt("smtp_host", default="localhost",
               help="SMTP server for e-mail subscriptions."),
    cfg.PortOpt("smtp_port", default=25,
                help="SMTP server port (587 for STARTTLS, 465 for TLS)."),
    cfg.StrOpt("smtp_username",
               help="SMTP login; none for an open relay."),
    cfg.StrOpt("smtp_password", secret=True,
               help="SMTP password."),
    cfg.BoolOpt("smtp_starttls", default=False,
                help="Upgrade the SMTP connection with STARTTLS."),
    cfg.BoolOpt("smtp_ssl", default=False,
                help="Connect to the SMTP server over TLS from the start."),
    cfg.StrOpt("from_address", default="radar@localhost",
               help="Sender address of notification e-mails."),
    cfg.FloatOpt("smtp_timeout", default=30.0, min=0.1,
                 help="Seconds an SMTP operation may take."),
    cfg.StrOpt("public_url",
               help="The URL clients use to reach this radar API (behind a proxy or "
                    "load balancer). Subscriptions may not deliver to it, nor to "
                    "[api] host and port, nor to the loopback addresses on [api] "
                    "port."),
]


def register_opts(conf):
    # A fresh OptGroup per ConfigOpts: a shared one would share its options
    # (and their overrides) between configurations.
    conf.register_group(cfg.OptGroup(GROUP.name, title=GROUP.title))
    conf.register_opts(OPTS, group=GROUP)
