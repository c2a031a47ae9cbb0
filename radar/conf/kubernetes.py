"""[kubernetes] and the per-source groups [kubernetes:<name>]."""

from oslo_config import cfg

GROUP = cfg.OptGroup("kubernetes", title="Kubernetes deployment tracking")

OPTS = [
    cfg.ListOpt("sources", default=[],
                help="Names of the Kubernetes clusters whose Deployment "
                     "rollouts the daemon records. Each name has its own "
                     "group [kubernetes:<name>] with the options shown under "
                     "[kubernetes:example]."),
]

SOURCE_OPTS = [
    cfg.StrOpt("kubeconfig", default="",
               help="Path of the kubeconfig file to use. Empty: the "
                    "in-cluster service account when the daemon runs in a "
                    "pod, else $KUBECONFIG or ~/.kube/config. When none of "
                    "them exists the source is disabled (one log line)."),
    cfg.StrOpt("context", default="",
               help="kubeconfig context. Empty: the current context."),
    cfg.StrOpt("cluster", default="",
               help="Cluster name recorded with each rollout. Empty: the "
                    "source name."),
    cfg.ListOpt("namespaces", default=[],
                help="Namespaces to watch. Empty: all namespaces (needs "
                     "cluster-wide list/watch on deployments.apps)."),
    cfg.StrOpt("label_selector", default="",
               help="Only Deployments matching this label selector, e.g. "
                    "'radar/track=true' or 'tier in (web,api)'."),
    cfg.StrOpt("service_label", default="app.kubernetes.io/name",
               help="Label naming the service (on the Deployment, else its "
                    "pod template). Absent: the Deployment's name."),
    cfg.StrOpt("environment_label", default="radar/environment",
               help="Label naming the environment (production, staging...)."),
    cfg.StrOpt("environment", default="",
               help="Environment recorded when the label is absent (e.g. "
                    "one environment per cluster). Empty: none."),
    cfg.StrOpt("wave_label", default="radar/wave",
               help="Label naming the rollout wave: canary, blue, green or "
                    "any other value (each wave is its own Deployment)."),
    cfg.StrOpt("version_label", default="app.kubernetes.io/version",
               help="Label giving the deployed version. Absent: the tag of "
                    "the first container's image."),
    cfg.StrOpt("revision_annotation", default="radar/revision",
               help="Annotation holding the git revision deployed (read on "
                    "the pod template first, then the Deployment)."),
    cfg.StrOpt("revision_label", default="radar/revision",
               help="Label holding the git revision, read when the "
                    "annotation is absent (same order)."),
    cfg.FloatOpt("watch_timeout", default=60.0, min=0.1,
                 help="Seconds each collection cycle watches the cluster "
                      "before the daemon moves on. Changes made while the "
                      "daemon sleeps between cycles arrive with the next "
                      "watch (resumed from the stored resourceVersion)."),
    cfg.IntOpt("page_size", default=500, min=1,
               help="Deployments per list page (limit=; pages are joined "
                    "with the continue token)."),
    cfg.FloatOpt("timeout", default=30.0, min=0.1,
                 help="Seconds to wait for the API server on a list "
                      "request, and beyond watch_timeout on a watch."),
]


def source_group(name):
    return "kubernetes:%s" % name


def register_opts(conf):
    # A fresh OptGroup per ConfigOpts: a shared one would share its options
    # (and their overrides) between configurations.
    conf.register_group(cfg.OptGroup(GROUP.name, title=GROUP.title))
    conf.register_opts(OPTS, group=GROUP)


def register_source_opts(conf, name):
    """Source groups are dynamic: register them once the names are known."""
    group = source_group(name)
    if group not in conf:
        conf.register_group(cfg.OptGroup(group, title="Kubernetes source %s" % name))
        conf.register_opts(SOURCE_OPTS, group=group)
    return conf[group]
