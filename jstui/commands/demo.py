"""`jstui demo`: the tutorial's whole JetStream story, live, in one command.

The command takes jstui's own options (`app_options`) plus `--cluster` and `--yes`, and runs the
ordinary start-up (`jstui.cli.launch`) with two changes: `DemoPlan.prepare` adjusts the checked
settings (a 3-node cluster started for `--cluster`; on someone else's server, what the demo will
create is said and confirmed first; the feed, the watched group and the watched requests that
show the story), and `DemoPlan.build_app` builds a `DemoApp`, which runs the story's programs.
Nothing heavy is imported before the settings are checked, so `jstui demo --help` stays fast.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import click

from jstui.cli import COMMAND_SETTINGS, app_options, launch

if TYPE_CHECKING:
    from jstui.app import JstuiApp
    from jstui.config import Settings
    from jstui.nats.cluster import EmbeddedCluster
    from jstui.nats.demo.names import DemoNames

CLUSTER_SIZE = 3


def demo_settings(settings: Settings, names: DemoNames) -> Settings:
    """The settings with the panes that show the story: a non-consuming feed on the stream's
    subjects, the Workers pane on the workers' group, the Request/Reply pane watching requests."""
    return replace(
        settings,
        feeds=(*settings.feeds, f"{names.wildcard},js"),
        watch=settings.watch or names.watch,
        watch_requests=names.requests_subject,
    )


class DemoPlan:
    """What `jstui demo` decided before the app runs: the names, and the cluster it started."""

    def __init__(self, *, cluster: bool, yes: bool) -> None:
        self.want_cluster = cluster
        self.yes = yes
        self.cluster: EmbeddedCluster | None = None
        self.names: DemoNames | None = None

    def prepare(self, settings: Settings) -> Settings:
        from jstui.nats.demo.names import private_names, tutorial_names

        if self.want_cluster:
            if not settings.embedded:
                raise click.UsageError("--cluster runs a cluster of its own: leave out --server")
            if settings.port:
                raise click.UsageError("--cluster picks its own ports: leave out --port")
            settings = self._start_cluster(settings)
            self.names = tutorial_names()
        elif settings.embedded:
            self.names = tutorial_names()
        else:
            if settings.read_only:
                raise click.UsageError(
                    "the demo creates a stream and consumers on the server you named: "
                    "--read-only cannot hold there (it can with jstui's own server)"
                )
            self.names = private_names()
            self._confirm(self.names)
        return demo_settings(settings, self.names)

    def _start_cluster(self, settings: Settings) -> Settings:
        from jstui.config import Settings
        from jstui.nats.cluster import EmbeddedCluster
        from jstui.nats.embedded import EmbeddedServerError

        click.echo(f"Starting a {CLUSTER_SIZE}-node nats-server cluster on 127.0.0.1…", err=True)
        cluster = EmbeddedCluster(size=CLUSTER_SIZE, base_dir=settings.store_dir, name="jstui-demo")
        try:
            self.cluster = cluster.start()
        except EmbeddedServerError as error:
            raise click.ClickException(str(error)) from error
        node = cluster.nodes[0]
        servers = tuple(cluster.urls)
        system = Settings(servers=servers, user=node.system_user, password=node.system_password)
        return replace(
            settings,
            servers=servers,
            monitor_url=",".join(cluster.monitor_urls),
            system=system,
        )

    def _confirm(self, names: DemoNames) -> None:
        """Say what the demo will make on someone else's server, and ask first (unless --yes)."""
        from jstui.nats.demo.story import MAX_AGE_SECONDS, MAX_MSGS

        click.echo(
            "jstui demo will create, on the server you named:\n"
            f"  stream    {names.stream} (subjects {names.wildcard}, file storage, "
            f"at most {MAX_MSGS:,} messages, 10 MiB, {MAX_AGE_SECONDS / 3600:g} h)\n"
            f"  consumers {names.workers} (a deliver group) and {names.replier} (durable)\n"
            "  six connections named jstui-demo-… that publish a few messages a second\n"
            "It deletes the stream and its consumers when jstui ends. Killing the server is not "
            "offered: it is not jstui's.",
            err=True,
        )
        if not self.yes:
            click.confirm("Go ahead?", abort=True, err=True)

    def build_app(self, settings: Settings, **options: Any) -> JstuiApp:
        from jstui.commands.demo_app import DemoApp

        assert self.names is not None  # set by `prepare`, which `launch` calls first
        return DemoApp(settings, names=self.names, cluster=self.cluster, **options)

    def stop(self) -> None:
        if self.cluster is not None:
            self.cluster.stop()
            self.cluster = None


@click.command(context_settings=COMMAND_SETTINGS)
@app_options
@click.option(
    "--cluster",
    is_flag=True,
    help="Run the story on a 3-node embedded cluster with an R3 stream, and offer a key that "
    "kills the stream's leader.",
)
@click.option(
    "-y",
    "--yes",
    is_flag=True,
    help="With --server: create the demo's stream and consumers without asking first.",
)
def demo(cluster: bool, yes: bool, **flags: Any) -> None:
    """jstui demo: the JetStream tutorial, live, in one command.

    Starts nats-server (or uses --server), creates the tutorial's stream example_stream
    (my.subject.*), and runs the tutorial's programs as separate connections: a publisher, a
    requester, a replier and three workers in the deliver group "workers". jstui's panes watch
    them. Keys (also in ? help): P pause traffic, + / - faster or slower, W add a worker, K kill
    a worker, N a request now, X kill the server, L kill the stream leader (--cluster),
    I narration on or off.

    --port 4222 lets the tutorial's own scripts join the same server. With --server URL the story
    runs on that server under names of its own (jstui_demo_…), removed on exit.
    """
    plan = DemoPlan(cluster=cluster, yes=yes)
    try:
        status = launch(flags, prepare=plan.prepare, app_factory=plan.build_app)
    finally:
        plan.stop()
    sys.exit(status)
