"""The shop spread over simulated hosts, as a cluster would run it.

    10.217.0.1   the clients (this process, in the root namespace)
    10.217.0.10  data      PostgreSQL (user, product, billing databases) and Redis
    10.217.0.20  lb        HAProxy: user :8001, product :8002, billing :8003
    10.217.0.30  user      the user service
    10.217.0.41  product1  10.217.0.42 product2
    10.217.0.51  billing1  10.217.0.52 billing2

Each replica runs the image's own command (deploy/container/shop serve SERVICE) on port 8000
of its host, on a read-only root filesystem but for /tmp, with its service's key ring in a directory of its own (what a pod gets from its
Secret) and every peer at the balancer (``*_SERVICE_URL``), never at 127.0.0.1.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from ms_token.keys import SigningKey, create_key
from shopdev.processes import ServiceProcess, in_parallel

from backends import HAProxy, PostgresServer, RedisServer
from hosts import Network

REPO = Path(__file__).resolve().parents[2]
SHOP_COMMAND = REPO / "deploy" / "container" / "shop"
SERVICE_PORT = 8000
BALANCER_PORTS = {"user": 8001, "product": 8002, "billing": 8003}
HOSTS = {"data": 10, "lb": 20, "user": 30, "product1": 41, "product2": 42, "billing1": 51, "billing2": 52}
REPLICA_HOSTS = {"user": ["user"], "product": ["product1", "product2"], "billing": ["billing1", "billing2"]}
# One Redis database per service, as in the manifests' Secrets.
REDIS_DB = {"user": 0, "product": 1, "billing": 2}
# As the pods run (readOnlyRootFilesystem, /tmp an emptyDir): in a mount namespace of its own,
# every file read-only but under /tmp (and /dev/shm), so a service that wrote anywhere else at
# run time would fail here as it would in the cluster.
READ_ONLY_ROOT = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                  'mount --bind /tmp /tmp && mount -o remount,bind,ro / && exec "$@"', "read-only-root"]


class Replica(ServiceProcess):
    """One process of a service on its own simulated host, started by the image's command."""

    def __init__(self, service: str, *, network: Network, host: str, env: dict[str, str], log_dir: Path) -> None:
        address = network.address(host)
        super().__init__(service, port=SERVICE_PORT, database_url=env["DATABASE_URL"], env=env, log_dir=log_dir)
        self.network = network
        self.host = host
        self.url = f"http://{address}:{SERVICE_PORT}"
        self.log_path = log_dir / f"{host}.log"
        self.env["GUNICORN_BIND"] = f"{address}:{SERVICE_PORT}"

    def command(self) -> list[str]:
        return self.network.command(self.host, [*READ_ONLY_ROOT, str(SHOP_COMMAND), "serve", self.service])

    def migrate(self) -> "Replica":
        """As the migrations Job does it: the image's command, from this host."""
        result = subprocess.run(self.network.command(self.host, [*READ_ONLY_ROOT, str(SHOP_COMMAND), "manage", self.service, "migrate", "--noinput", "-v", "0"]),
                                env=self.env, capture_output=True, text=True, timeout=180)
        if result.returncode != 0:
            raise RuntimeError(f"{self.service}: migrate failed:\n{result.stdout}\n{result.stderr}")
        return self


class Cluster:
    def __init__(self, work_dir: Path, *, env: dict[str, str] | None = None) -> None:
        self.work_dir = Path(work_dir)
        self.network = Network(HOSTS)
        self.extra_env = env or {}
        self.postgres: PostgresServer | None = None
        self.redis: RedisServer | None = None
        self.balancer: HAProxy | None = None
        self.replicas: dict[str, list[Replica]] = {}

    # --- addresses -------------------------------------------------------------------------

    def url(self, service: str) -> str:
        """Where clients and peers reach ``service``: its balancer."""
        return f"http://{self.network.address('lb')}:{BALANCER_PORTS[service]}"

    def replica(self, host: str) -> Replica:
        return next(r for replicas in self.replicas.values() for r in replicas if r.host == host)

    def keys_dir(self, host: str) -> Path:
        """The host's copy of its service's key ring: <dir>/<service>/<kid>.pem (its "Secret")."""
        return self.work_dir / "hosts" / host / "keys"

    def database_url(self, service: str) -> str:
        return self.postgres.url(service)

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> "Cluster":
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        self.network.up()
        self.postgres = PostgresServer(self.network, "data", self.work_dir / "postgres")
        self.redis = RedisServer(self.network, "data", self.work_dir / "redis")
        self.postgres.start()
        self.postgres.create_databases(*REPLICA_HOSTS)
        self.redis.start()
        self._install_keys()
        self.replicas = {service: [self._replica(service, host) for host in hosts] for service, hosts in REPLICA_HOSTS.items()}
        # One migration per service (a Job), then every replica at once.
        in_parallel(lambda replicas: replicas[0].migrate(), self.replicas.values())
        in_parallel(lambda replica: replica.start(ready_timeout=60), self.all_replicas())
        self.balancer = HAProxy(
            self.network, "lb", self.work_dir / "haproxy",
            backends={service: (BALANCER_PORTS[service], [r.url for r in replicas]) for service, replicas in self.replicas.items()},
        ).start()

    def stop(self) -> None:
        for replica in self.all_replicas():
            try:
                replica.stop()
            except Exception:
                pass
        for server in (self.balancer, self.redis):
            if server is not None:
                try:
                    server.stop()
                except Exception:
                    pass
        if self.postgres is not None:
            self.postgres.remove()
        self.network.down()  # and anything still running on a host

    def __enter__(self) -> "Cluster":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def all_replicas(self) -> list[Replica]:
        return [replica for replicas in self.replicas.values() for replica in replicas]

    def _install_keys(self) -> None:
        """One key ring per service, copied to each of its hosts, as one Secret is mounted into
        every pod of a Deployment."""
        staging = self.work_dir / "keys"
        for service, hosts in REPLICA_HOSTS.items():
            create_key(service, staging)
            for host in hosts:
                shutil.copytree(staging / service, self.keys_dir(host) / service)

    def rotate_key(self, service: str) -> SigningKey:
        """``keys --rotate`` for a deployment: a new key added to ``service``'s Secret, the old one
        kept, so every host of it gets the new file (a running replica rereads its directory
        within seconds; a restarted one reads it at start). The new key is published at once
        and signs ACTIVATION_SECONDS after its creation."""
        staging = self.work_dir / "keys"
        key = create_key(service, staging)
        for host in REPLICA_HOSTS[service]:
            directory = self.keys_dir(host) / service
            temporary = directory / f".{key.kid}.tmp"  # a name the key ring ignores
            shutil.copy2(staging / service / f"{key.kid}.pem", temporary)
            os.replace(temporary, directory / f"{key.kid}.pem")  # the file whole or not at all
        return key

    def _replica(self, service: str, host: str) -> Replica:
        address = self.network.address(host)
        env = {
            # The image's environment: its virtualenv first on PATH.
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "DATABASE_URL": self.database_url(service),
            f"{service.upper()}_DATABASE_URL": self.database_url(service),
            "MS_REPLAY_CACHE": self.redis.url(REDIS_DB[service]),
            "CACHE_URL": self.redis.url(REDIS_DB[service]),
            "MS_KEYS_DIR": str(self.keys_dir(host)),
            **{f"{peer.upper()}_SERVICE_URL": self.url(peer) for peer in REPLICA_HOSTS},
            # Peers and the balancer's checks call it by the balancer's address; the tests also
            # call each replica by its own.
            "DJANGO_ALLOWED_HOSTS": f"{self.network.address('lb')},{address}",
            "WEB_CONCURRENCY": "2",
            "GUNICORN_THREADS": "4",
            "LOGIN_THROTTLE_RATE": "100000/min",
            "LOGIN_USERNAME_THROTTLE_RATE": "100000/min",
            **self.extra_env,
        }
        return Replica(service, network=self.network, host=host, env=env, log_dir=self.work_dir / "logs")

    def log_lines(self, needle: str) -> list[str]:
        """Every replica's log lines that contain ``needle``, each prefixed with its host."""
        found = []
        for replica in self.all_replicas():
            if replica.log_path.exists():
                found += [f"{replica.host}: {line}" for line in replica.log_path.read_text(errors="replace").splitlines() if needle in line]
        return found

    def logs(self, lines: int = 25) -> str:
        parts = [f"--- {r.host} ({r.service})\n{r.log_tail(lines)}" for r in self.all_replicas()]
        parts += [f"--- {s.name}\n{s.log_tail(lines)}" for s in (self.balancer, self.redis, self.postgres) if s is not None]
        return "\n".join(parts)
