"""A private RabbitMQ cluster for tests: three local nodes started together, killed, restarted and
stopped by the test, and removed when it ends. The shared broker (5672) is never touched.

    with RabbitCluster() as cluster:        # nodes hookqc1..3@localhost, AMQP 5701..5703
        url = cluster.url                   # every node, comma-separated: HOOKQ_AMQP_URL
        cluster.leader("ns.handler")        # index of the node that leads a quorum queue
        cluster.coordinator_members()       # nodes running a stream coordinator member
        cluster.settle()                    # Ra's metadata on disk, as an older cluster's is
        cluster.kill(0)                     # SIGKILL the node's Erlang VM
        cluster.start_node(0)               # back, with its data: it rejoins the cluster
        cluster.launch(0); cluster.wait_whole()  # the same, waited for later
        cluster.stop(1)                     # a clean shutdown (``rabbitmqctl stop``)

Each node has its own ports (AMQP ``5700+n``, Erlang distribution ``25700+n``), data and logs
under ``/tmp/hookq-rabbit-cluster`` and no plugins (no management listener: faster to start).
The nodes and the ``rabbitmqctl`` calls share an Erlang cookie of their own, in a private
``HOME``, so that nothing depends on the system node's cookie or user. A node may open 20,000
files (scripts/rabbitmq-open-files says why). Self-contained: it needs only RabbitMQ's scripts
(``/usr/lib/rabbitmq/bin``, or ``HOOKQ_TEST_RABBITMQ_BIN``).

Nodes left by an interrupted run (their pid files in the same directory) are killed before a
new cluster starts.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import psutil

RABBITMQ_BIN = Path(os.environ.get("HOOKQ_TEST_RABBITMQ_BIN", "/usr/lib/rabbitmq/bin"))
ROOT = Path(tempfile.gettempdir()) / "hookq-rabbit-cluster"
OPEN_FILES = 20_000
START_TIMEOUT = 120.0  # seconds: three nodes starting at once on a loaded two-core machine


class ClusterError(RuntimeError):
    """A node did not start or stop; the message carries the tail of its log."""


@dataclass
class Node:
    index: int
    name: str  # hookqcN@localhost
    amqp_port: int
    dist_port: int
    directory: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.amqp_port}/"

    @property
    def pid_file(self) -> Path:
        return self.directory / "pid"

    def vm_pid(self) -> int | None:
        """The Erlang VM's pid (``rabbitmq-server`` is a shell script around it)."""
        with contextlib.suppress(OSError, ValueError):
            return int(self.pid_file.read_text().strip())
        return None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, lines: int = 20) -> str:
        path = self.directory / "console.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


class RabbitCluster:
    def __init__(
        self, size: int = 3, prefix: str = "hookqc", first_port: int = 5701, root: Path = ROOT
    ) -> None:
        self.root = root
        self.erlang_home = root / "home"
        self.nodes = [
            Node(
                index=i,
                name=f"{prefix}{i + 1}@localhost",
                amqp_port=first_port + i,
                dist_port=20_000 + first_port + i,
                directory=root / f"{prefix}{i + 1}",
            )
            for i in range(size)
        ]

    @property
    def url(self) -> str:
        """Every node, comma-separated: ``HOOKQ_AMQP_URL`` for the whole cluster."""
        return ",".join(node.url for node in self.nodes)

    # Life cycle

    def start(self) -> None:
        """Every node at once (they find each other by their configured names), then wait
        until all of them run as one cluster."""
        self._remove_leftovers()
        self.erlang_home.mkdir(parents=True)
        cookie = self.erlang_home / ".erlang.cookie"
        cookie.write_text(secrets.token_hex(20))
        cookie.chmod(0o400)
        for node in self.nodes:
            self._configure(node)
            self.launch(node.index)
        self.wait_whole()

    def launch(self, index: int) -> None:
        """Start a stopped or killed node again, with its data, without waiting for it: it
        rejoins the cluster (``wait_whole`` waits for it)."""
        node = self.nodes[index]
        if not node.alive():
            self._launch(node)

    def start_node(self, index: int) -> None:
        """``launch`` and wait until the node runs in the cluster again."""
        self.launch(index)
        self._wait_listening(self.nodes[index])
        self.ctl(index, "await_startup", "--timeout", "60")

    def wait_whole(self) -> None:
        """Until every node listens and the cluster counts them all running."""
        for node in self.nodes:
            self._wait_listening(node)
        self.ctl(0, "await_online_nodes", str(len(self.nodes)), "--timeout", "60")

    def settle(self) -> None:
        """Write what every node keeps of its Ra members to disk now, as the cluster's next few
        seconds would have: RabbitMQ 3.10 saves that metadata (dets tables such as
        ``ra_coordination_log_meta``) every 5 s, and a node SIGKILLed before then, a moment
        after the cluster's first stream was declared, comes back without its stream
        coordinator member, for good (``coordinator_members``). A test that kills a node of a
        cluster it has just set up calls this first (docs/reliability.md, "A stream
        coordinator member lost to an early kill")."""
        self.ctl(
            self.running()[0],
            "eval",
            "[rpc:multicall([node() | nodes()], dets, sync, [T]) || T <- dets:all()].",
        )

    def kill(self, index: int) -> None:
        """SIGKILL the node's VM: no goodbye to clients or to the other nodes."""
        node = self.nodes[index]
        pid = node.vm_pid()
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if node.proc is not None:
            node.proc.wait(30)

    def stop(self, index: int) -> None:
        """A clean shutdown (``rabbitmqctl stop``); a kill if it takes too long."""
        node = self.nodes[index]
        try:
            self.ctl(index, "stop", timeout=60)
            if node.proc is not None:
                node.proc.wait(30)
        except (ClusterError, subprocess.TimeoutExpired):
            self.kill(index)

    def close(self) -> None:
        for node in self.nodes:
            self.kill(node.index)
        # The nodes' logs, kept where HOOKQ_TEST_CLUSTER_LOGS says (to read after a failure).
        keep = os.environ.get("HOOKQ_TEST_CLUSTER_LOGS")
        if keep:
            for node in self.nodes:
                target = Path(keep) / node.name
                shutil.rmtree(target, ignore_errors=True)
                shutil.copytree(node.directory / "log", target, dirs_exist_ok=True)
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> RabbitCluster:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # Questions

    def running(self) -> list[int]:
        """Indexes of the nodes whose process is up."""
        return [node.index for node in self.nodes if node.alive()]

    def quorum_critical(self, index: int) -> bool:
        """Stopping this node now would leave a quorum queue without a majority (its other
        members not all online yet, e.g. a node restarted a moment ago still catching up): what
        an operator checks before stopping a node (``rabbitmq-queues``)."""
        try:
            self.ctl(index, "check_if_node_is_quorum_critical", tool="rabbitmq-queues")
        except ClusterError:
            return True
        return False

    def ctl(self, index: int, *args: str, timeout: float = 90.0, tool: str = "rabbitmqctl") -> str:
        """``rabbitmqctl -n <node> args``: its output, or ``ClusterError`` with its error."""
        command = [str(RABBITMQ_BIN / tool), "-q", "-n", self.nodes[index].name, *args]
        try:
            done = subprocess.run(
                command, env=self._env(), capture_output=True, text=True, timeout=timeout
            )
        except subprocess.TimeoutExpired as exc:
            raise ClusterError(f"{' '.join(args)} on {self.nodes[index].name}: timed out") from exc
        if done.returncode != 0:
            raise ClusterError(
                f"{' '.join(args)} on {self.nodes[index].name}: {done.stderr or done.stdout}"
            )
        return done.stdout

    def quorum_queues(self, via: int | None = None) -> dict[str, tuple[int | None, list[int]]]:
        """Every quorum queue: (index of its leader or None, indexes of its members), asked of
        a running node."""
        found = {}
        for queue in self._queues(via, "leader", "members"):
            if queue.get("type") == "quorum":
                members = [self._index(member) for member in queue.get("members") or []]
                leader = self._index(queue.get("leader"))
                found[queue["name"]] = (leader, sorted(i for i in members if i is not None))
        return found

    def home(self, classic_queue: str) -> int | None:
        """The node a classic queue lives on (and is lost with)."""
        for index in self.running():
            local = self.ctl(index, "list_queues", "--local", "name", "--formatter", "json")
            if any(queue["name"] == classic_queue for queue in json.loads(local)):
                return index
        return None

    def _queues(self, via: int | None, *items: str) -> list[dict[str, Any]]:
        asked = via if via is not None else self.running()[0]
        raw = self.ctl(asked, "list_queues", "name", "type", *items, "--formatter", "json")
        queues: list[dict[str, Any]] = json.loads(raw)
        return queues

    def coordinator_members(self) -> list[int]:
        """The running nodes whose member of RabbitMQ's stream coordinator (the Ra cluster every
        stream needs a majority of) runs. A node SIGKILLed and restarted may come back without
        it (``settle``)."""
        raw = self.ctl(
            self.running()[0],
            "eval",
            "string:join([atom_to_list(N) || N <- [node() | nodes()], is_pid(rpc:call(N, "
            'erlang, whereis, [rabbit_stream_coordinator]))], ",").',
        )
        names = raw.strip().strip('"').split(",")
        return sorted(i for i in (self._index(name) for name in names) if i is not None)

    def leader(self, queue: str) -> int | None:
        return self.quorum_queues().get(queue, (None, []))[0]

    def connected_node(self, connection_name: str) -> int | None:
        """The node holding a client's connection (by its ``connection_name``), if any."""
        for index in self.running():
            raw = self.ctl(index, "list_connections", "client_properties", "--formatter", "json")
            for connection in json.loads(raw):
                properties = connection.get("client_properties") or []
                if ["connection_name", "longstr", connection_name] in properties:
                    return index
        return None

    # Internals

    def _index(self, name: object) -> int | None:
        return next((n.index for n in self.nodes if n.name == name), None)

    def _env(self, node: Node | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RABBITMQ_", "ERL_"))}
        env.update(
            HOME=str(self.erlang_home),  # its .erlang.cookie: shared by the nodes and rabbitmqctl
            ERL_EPMD_ADDRESS="127.0.0.1",
            # Not the system's rabbitmq-env.conf (it names the shared node).
            RABBITMQ_CONF_ENV_FILE=str(self.root / "rabbitmq-env.conf"),
        )
        if node is not None:
            env.update(
                RABBITMQ_NODENAME=node.name,
                RABBITMQ_NODE_PORT=str(node.amqp_port),
                RABBITMQ_DIST_PORT=str(node.dist_port),
                RABBITMQ_CONFIG_FILE=str(node.directory / "rabbitmq.conf"),
                RABBITMQ_ADVANCED_CONFIG_FILE=str(node.directory / "advanced.config"),
                RABBITMQ_ENABLED_PLUGINS_FILE=str(node.directory / "enabled_plugins"),
                RABBITMQ_MNESIA_BASE=str(node.directory / "mnesia"),
                RABBITMQ_LOG_BASE=str(node.directory / "log"),
                RABBITMQ_PID_FILE=str(node.pid_file),
                RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}",
            )
        return env

    def _configure(self, node: Node) -> None:
        node.directory.mkdir(parents=True)
        (self.root / "rabbitmq-env.conf").touch()
        peers = "\n".join(
            f"cluster_formation.classic_config.nodes.{peer.index + 1} = {peer.name}"
            for peer in self.nodes
        )
        (node.directory / "rabbitmq.conf").write_text(
            f"listeners.tcp.1 = 127.0.0.1:{node.amqp_port}\n"
            "cluster_formation.peer_discovery_backend = classic_config\n"
            f"{peers}\n"
        )
        (node.directory / "enabled_plugins").write_text("[].\n")

    def _launch(self, node: Node) -> None:
        if _port_open(node.amqp_port) or _port_open(node.dist_port):
            raise ClusterError(
                f"port {node.amqp_port} or {node.dist_port} is in use: another process holds "
                f"{node.name}'s ports"
            )
        node.pid_file.unlink(missing_ok=True)
        with (node.directory / "console.log").open("ab") as out:
            node.proc = subprocess.Popen(
                [str(RABBITMQ_BIN / "rabbitmq-server")],
                env=self._env(node),
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=node.directory,
                preexec_fn=_raise_open_files,  # a limit only: safe before exec
                start_new_session=True,
            )

    def _wait_listening(self, node: Node) -> None:
        # Its AMQP listener opens once the node has booted (and joined its cluster).
        deadline = time.monotonic() + START_TIMEOUT
        while not _port_open(node.amqp_port):
            if not node.alive() or time.monotonic() > deadline:
                raise ClusterError(f"{node.name} did not start:\n{node.log_tail()}")
            time.sleep(0.25)

    def _remove_leftovers(self) -> None:
        for node in self.nodes:
            pid = node.vm_pid()
            if pid is not None and _is_our_vm(pid, node.name):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                with contextlib.suppress(psutil.Error):
                    psutil.Process(pid).wait(30)
        shutil.rmtree(self.root, ignore_errors=True)


def _is_our_vm(pid: int, name: str) -> bool:
    try:
        return name.split("@")[0] in " ".join(psutil.Process(pid).cmdline())
    except psutil.Error:
        return False


def _raise_open_files() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = OPEN_FILES if hard == resource.RLIM_INFINITY else min(OPEN_FILES, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def _port_open(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
        return True
    return False
