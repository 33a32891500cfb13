"""A function runs inside its VPC: one Linux network namespace per function.

``sandbox_for(fn)`` prepares (or refreshes) the function's namespace from the emulator's current state at each
invocation and returns the command prefix that runs a process inside it (``ip netns exec <name>``).  Inside:

- ``lo`` carries the address of the function's Lambda network interface (the Hyperplane ENI of
  :mod:`emulator.ext.network_interfaces`; with several subnets, the one of the first subnet in sorted order);
- names resolve as AWS resolves them inside that VPC, through the namespace's own ``/etc/hosts``
  (``/etc/netns/<name>/hosts``, which ``ip netns exec`` mounts over ``/etc/hosts``; ``nsswitch.conf`` there
  makes the hosts file the only source and ``resolv.conf`` names no reachable server, so any other name fails
  at once);
- every address the function may reach is a listening socket inside the namespace: an RDS Proxy endpoint's
  interface on the proxy's port is handed to :func:`emulator.dataplane.proxy.serve`, the STS interface
  endpoint's on 443 to a TLS relay towards the emulator's HTTP API;
- security groups decide, as AWS does, which of those addresses are reachable: an admitted address is on
  ``lo`` with its listener; a refused one is not, and packets to it (as to any address not on ``lo``) leave
  through a veth pair towards a gateway whose neighbour entry is a MAC that nobody has, so they are dropped
  without an answer and the client's connect times out, as a security group (which has no deny answer) or a
  missing route does.

Modelled (sources beside each rule below): interface addresses, private DNS of RDS Proxy endpoints and of the
STS interface endpoint, the functions without ``VpcConfig`` on Lambda's own network, security group rules
(TCP and all-protocol rules with IPv4 CIDRs or group references, groups of any account, as in a shared VPC).
Not modelled: network ACLs, route tables (a VPC has no route out, and nothing else in it is reachable),
peering and transit gateways, prefix-list and IPv6 rules, UDP/ICMP, the Route 53 Resolver's public answers
(see ``_add_sts_endpoint``; a private name whose interfaces are not in the function's VPC resolves to
nothing), ports other than the listener's on an admitted address (those are refused with a reset
where AWS would drop them).

Namespaces are named ``emu-<hash>``, the hash of the emulator process, account, Region and function name; a
record under ``/run/emulator-netns`` names the emulator process that made each one, so that the namespaces of
an emulator that was killed are removed when the next one starts (``set_emulator_address``) while those of
another running emulator are left alone.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import hashlib
import importlib
import ipaddress
import json
import logging
import os
import selectors
import shutil
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ..settings import SETTINGS

LOGGER = logging.getLogger(__name__)

PREFIX = "emu-"
NETNS_DIR = Path("/run/netns")  # where `ip netns add` keeps its namespaces
ETC_NETNS = Path("/etc/netns")  # files `ip netns exec` mounts over /etc/<file>
OWNERS_DIR = Path("/run/emulator-netns")  # which emulator process made each namespace

ROOT_NEEDED = "network namespaces need root (CAP_SYS_ADMIN); Invoke cannot run code here"
CAP_SYS_ADMIN = 21  # linux/capability.h
CLONE_NEWNET = 0x40000000  # sched.h

# The black hole: a veth pair inside the namespace, a default route through it to a gateway whose neighbour
# entry is permanent and names a MAC that no interface has (a locally administered address), so that every
# packet to an address not on lo is sent and silently dropped by the peer.
BLACKHOLE_DEVICE, BLACKHOLE_PEER = "bh0", "bh1"
BLACKHOLE_GATEWAY = "169.254.0.1"
BLACKHOLE_MAC = "02:00:00:00:00:01"

# RDS Proxy listens on the engine family's default port, whatever the database's port (Amazon RDS User Guide,
# "Amazon RDS Proxy", quotas and limitations; aws/aws-cdk discussion 28321).  Only PostgreSQL is served.
PROXY_PORTS = {"POSTGRESQL": 5432, "MYSQL": 3306, "SQLSERVER": 1433}
SERVED_FAMILIES = ("POSTGRESQL",)
HTTPS_PORT = 443
# Statuses in which a proxy or proxy endpoint answers (it keeps serving while a modification is applied).
SERVING = ("available", "modifying")
# A function without VpcConfig reaches STS's public endpoint; the emulator puts a stand-in for it on lo at an
# address of TEST-NET-3 (RFC 5737), which stands for "a public address" and is nobody's.
PUBLIC_STS_ADDRESS = "203.0.113.43"

HANDSHAKE_TIMEOUT = 10.0  # seconds a client of the STS relay has to complete TLS
BUFFER = 65536


class _Unavailable(Exception):
    """Why a function cannot run here (the text of Sandbox.unavailable)."""


@dataclass
class Sandbox:
    """How to run a process inside a function's network: ``argv_prefix`` + the command, unless ``unavailable``
    says why that cannot be done (then ``argv_prefix`` is empty)."""

    argv_prefix: list[str]
    unavailable: str | None


class Listener(Protocol):
    def close(self) -> None: ...


# -- the emulator's HTTP API (for the STS relay) ----------------------------------------------------------------
_emulator_address: tuple[str, int] | None = None


def set_emulator_address(host: str, port: int) -> None:
    """Where the emulator's HTTP API listens; the STS relays pass their requests there.

    Called when the emulator's server starts, which is also when the namespaces left by an emulator process
    that no longer runs are removed."""
    global _emulator_address
    _emulator_address = (host, int(port))
    try:
        remove_stale()
    except Exception:  # the server must start whatever the host allows
        LOGGER.exception("could not remove stale network namespaces")


# -- security groups ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Interface:
    """A network interface as a security group sees it: its private address and its groups (moto objects)."""

    address: str
    groups: tuple[Any, ...]

    @property
    def group_ids(self) -> frozenset[str]:
        return frozenset(group.id for group in self.groups)


def _rule_allows(rule: Any, port: int, peer: Interface) -> bool:
    """One security group rule, for TCP to ``port`` with ``peer`` at the other end.

    Amazon VPC User Guide, "Security group rules", components of a rule: the protocol (TCP, or all protocols:
    ``-1``), the port range, and the source (ingress) or destination (egress): an IPv4 CIDR, or a security
    group, which stands for the private addresses of the network interfaces associated with it ("Security
    group referencing").  Prefix lists and IPv6 ranges are not modelled (they match nothing here)."""
    protocol = str(rule.ip_protocol or "")
    if protocol not in ("tcp", "-1"):
        return False
    if protocol == "tcp" and not (
        rule.from_port is not None and rule.to_port is not None and int(rule.from_port) <= port <= int(rule.to_port)
    ):
        return False
    cidr = (rule.ip_range or {}).get("CidrIp")
    if cidr:
        try:
            return ipaddress.ip_address(peer.address) in ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            return False
    group_id = (rule.source_group or {}).get("GroupId")
    if group_id:
        return group_id in peer.group_ids
    return False


def admits(source: Interface, target: Interface, port: int) -> bool:
    """Whether a TCP connection from ``source`` to ``target`` on ``port`` gets through their security groups.

    Amazon VPC User Guide, "Security group rules": rules only allow (there are no deny rules); a group's
    outbound rules control the traffic that leaves the resources associated with it, its inbound rules the
    traffic that reaches them; with several groups, "the rules from each security group are aggregated to form
    a single set of rules"; a group without outbound rules allows no outbound traffic.  Security groups are
    stateful (the answers of an admitted connection pass), so the connection needs an egress rule of one of
    the source's groups for the target and an ingress rule of one of the target's groups for the source.
    In a shared VPC the groups may belong to different accounts and still reference each other by ID
    (Amazon VPC User Guide, "Share your VPC with other accounts")."""
    egress = any(_rule_allows(rule, port, target) for group in source.groups for rule in list(group.egress_rules))
    return egress and any(
        _rule_allows(rule, port, source) for group in target.groups for rule in list(group.ingress_rules)
    )


# -- what a function sees ------------------------------------------------------------------------------------------
@dataclass
class View:
    """The network of one function: its own address, the names it resolves (name -> addresses, in order) and
    the reachable listeners ((address, port) -> what serves there: ("proxy", account, region, proxy, endpoint
    or None) or ("sts", region))."""

    own_address: str | None = None
    hosts: dict[str, list[str]] = field(default_factory=dict)
    listeners: dict[tuple[str, int], tuple] = field(default_factory=dict)

    def resolve(self, name: str, addresses: Iterable[str]) -> None:
        known = self.hosts.setdefault(name, [])
        known.extend(a for a in addresses if a not in known)


def _existing(backend_dict: Any, region: str) -> Iterator[Any]:
    from ..ext import network_interfaces

    return network_interfaces._existing(backend_dict, region)


def _groups(region: str, group_ids: Iterable[str]) -> tuple[Any, ...]:
    """Security groups by ID, whichever account of the emulator owns them."""
    from ..ext import network_interfaces

    return tuple(network_interfaces._find_groups(region, list(group_ids)))


def _primary_address(eni: Any) -> str | None:
    return getattr(eni, "private_ip_address", None)


def _function_interface(fn: Any, region: str) -> tuple[str, Interface] | None:
    """(VPC ID, the function's interface), or None for a function without VpcConfig.

    AWS Lambda Developer Guide, "VPC networking for Lambda": Lambda reaches the VPC through a Hyperplane ENI
    per subnet and security group combination; the function's traffic leaves through one of them with the
    function's security groups."""
    from ..ext import network_interfaces, sharing

    config = fn._vpc_config or {}
    subnet_ids = sorted(config.get("SubnetIds") or [])
    if not subnet_ids:
        return None
    group_ids = list(config.get("SecurityGroupIds") or [])
    backend = network_interfaces._ec2_if_any(fn.account_id, region)
    enis = list(backend.enis.values()) if backend is not None else []
    for subnet_id in subnet_ids:
        # The key of emulator/ext/network_interfaces.py: (LAMBDA, subnet, sorted groups).
        wanted = (network_interfaces.LAMBDA, subnet_id, tuple(sorted(group_ids)))
        for eni in enis:
            managed = network_interfaces._managed(eni)
            if managed is not None and managed.key == wanted and managed.release is None and _primary_address(eni):
                subnet = sharing.find_subnet(fn.account_id, region, subnet_id) or eni.subnet
                return subnet.vpc_id, Interface(_primary_address(eni), _groups(region, group_ids))
    raise _Unavailable(f"the function {fn.function_name} has no Lambda network interface in its subnets")


def _proxy_endpoints(region: str) -> Iterator[tuple[Any, Any, Any | None]]:
    """(RDS backend, proxy, created endpoint or None for the default one) of every account, serving ones only."""
    from moto.rds.models import rds_backends

    from ..ext import rds_proxy_endpoints

    for backend in list(_existing(rds_backends, region)):
        for proxy in list(backend.db_proxies.values()):
            if not hasattr(proxy, "lifecycle") or proxy.status not in SERVING:
                continue
            yield backend, proxy, None
            for endpoint in list(rds_proxy_endpoints.proxy_endpoints(backend).values()):
                if endpoint.proxy is proxy and endpoint.status in SERVING:
                    yield backend, proxy, endpoint


def _add_proxy_endpoints(view: View, region: str, vpc_id: str, own: Interface) -> None:
    """RDS Proxy endpoints whose network interfaces are in the function's VPC.

    Amazon Aurora User Guide, "Working with Amazon RDS Proxy endpoints": a proxy's default endpoint is in the
    proxy's VPC; an endpoint you create can be in another VPC (including one shared with the proxy's account),
    and clients in that VPC reach the proxy through it, by its DNS name, which resolves to the addresses of its
    network interfaces in that VPC.  Each address gets through or not as the security groups of the endpoint
    (those of its interfaces) and of the function decide."""
    from ..ext import network_interfaces

    for backend, proxy, endpoint in _proxy_endpoints(region):
        owner = endpoint.interfaces if endpoint is not None else ("db-proxy", proxy.unique_id)
        source = endpoint if endpoint is not None else proxy
        addresses = [
            address
            for eni in network_interfaces._owned(backend.account_id, region, owner)
            if eni.subnet.vpc_id == vpc_id
            and network_interfaces._managed(eni).release is None
            and (address := _primary_address(eni))
        ]
        if not addresses:
            continue
        view.resolve(source.endpoint, addresses)
        port = PROXY_PORTS.get(proxy.engine_family)
        if proxy.engine_family not in SERVED_FAMILIES or port is None:
            continue
        groups = _groups(region, source.vpc_security_group_ids or [])
        endpoint_name = endpoint.db_proxy_endpoint_name if endpoint is not None else None
        target = ("proxy", backend.account_id, region, proxy.db_proxy_name, endpoint_name)
        for address in addresses:
            if address != own.address and admits(own, Interface(address, groups), port):
                view.listeners[(address, port)] = target


def _sts_endpoints(region: str, vpc_id: str) -> Iterator[tuple[Any, Any]]:
    """(EC2 backend, endpoint): available interface endpoints for STS in the VPC, of any account."""
    from moto.ec2.models import ec2_backends

    service = f"com.amazonaws.{region}.sts"
    for backend in list(_existing(ec2_backends, region)):
        for endpoint in list(backend.vpc_end_points.values()):
            if (
                endpoint.vpc_id == vpc_id
                and (endpoint.vpc_endpoint_type or "").lower() == "interface"
                and endpoint.service_name == service
                and endpoint.state == "available"
            ):
                yield backend, endpoint


def _add_sts_endpoint(view: View, region: str, vpc_id: str, own: Interface) -> None:
    """The STS interface endpoint of the function's VPC.

    AWS PrivateLink Guide, "Access an AWS service using an interface VPC endpoint", "DNS hostnames" and
    "Private DNS": an interface endpoint has a Regional DNS name and one zonal name per Availability Zone
    (``vpce-<id>-<suffix>[-<az>].<service>.<region>.vpce.amazonaws.com``) that resolve to the private addresses
    of its network interfaces; with private DNS enabled, a private hosted zone associated with the VPC makes the
    service's default name (``sts.<region>.amazonaws.com``) resolve to those addresses too (EC2 API Reference,
    CreateVpcEndpoint, PrivateDnsEnabled).  The endpoint's security groups are those of its interfaces.

    Without such an endpoint the function, in a VPC that has no route out, cannot reach STS.  On AWS the Route
    53 Resolver still answers the public addresses of ``sts.<region>.amazonaws.com`` and the connection then
    times out; the emulator answers no address instead, so that the function fails at once rather than after
    the SDK's connect timeouts and retries."""
    default_name = f"sts.{region}.amazonaws.com"
    for backend, endpoint in _sts_endpoints(region, vpc_id):
        enis = [backend.enis[i] for i in endpoint.network_interface_ids or [] if i in backend.enis]
        enis = [eni for eni in enis if _primary_address(eni)]
        if not enis:
            continue
        addresses = [_primary_address(eni) for eni in enis]
        for entry in endpoint.dns_entries or []:
            name = entry.get("dns_name") or entry.get("DnsName") or ""
            if not name or name == default_name:
                continue
            zonal = [_primary_address(e) for e in enis if f"-{e.subnet.availability_zone}." in name]
            view.resolve(name, zonal or addresses)
        if endpoint.private_dns_enabled:
            view.resolve(default_name, addresses)
        groups = _groups(region, endpoint.security_group_ids or [])
        for address in addresses:
            if address != own.address and admits(own, Interface(address, groups), HTTPS_PORT):
                view.listeners[(address, HTTPS_PORT)] = ("sts", region)


def view_of(fn: Any) -> View:
    """What the function's network is now: computed from the emulator's state (all accounts)."""
    from ..ext import network_interfaces

    region = fn.region
    network_interfaces.settle(region)
    with network_interfaces._LOCK:
        view = View()
        placed = _function_interface(fn, region)
        if placed is None:
            # AWS Lambda Developer Guide, "Giving Lambda functions access to resources in an Amazon VPC" (and
            # the Lambda Operator Guide, "Networking and VPC configurations"): a function without a VPC
            # configuration runs on Lambda's network, with access to the public internet (so to STS's public
            # endpoint) and none to resources in a VPC, whose private names it does not resolve here.
            name = f"sts.{region}.amazonaws.com"
            view.resolve(name, [PUBLIC_STS_ADDRESS])
            view.listeners[(PUBLIC_STS_ADDRESS, HTTPS_PORT)] = ("sts", region)
            return view
        vpc_id, own = placed
        view.own_address = own.address
        _add_proxy_endpoints(view, region, vpc_id, own)
        _add_sts_endpoint(view, region, vpc_id, own)
        return view


# -- the host: ip, setns, files ----------------------------------------------------------------------------------
def _ip_command() -> str | None:
    return shutil.which("ip") or next((p for p in ("/usr/sbin/ip", "/sbin/ip") if os.access(p, os.X_OK)), None)


def _capabilities() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("CapEff:"):
                return int(line.split()[1], 16)
    except (OSError, ValueError):
        pass
    return 0


def _libc() -> Any:
    return ctypes.CDLL(None, use_errno=True)


def availability() -> str | None:
    """Why namespaces cannot be made here, or None."""
    if not SETTINGS.data_plane:
        return "the data plane is off (setting data_plane); Invoke cannot run code"
    if not sys.platform.startswith("linux"):
        return "network namespaces need Linux; Invoke cannot run code here"
    if _ip_command() is None:
        return "the ip command (iproute2) is missing, so no network namespace can be made; Invoke cannot run code here"
    if not _capabilities() & (1 << CAP_SYS_ADMIN):
        return ROOT_NEEDED
    if not hasattr(_libc(), "setns"):
        return "the C library has no setns(); Invoke cannot run code here"
    return None


def _ip(*args: str, namespace: str | None = None, batch: list[str] | None = None) -> str:
    command = [_ip_command() or "ip"]
    if namespace:
        command += ["-n", namespace]
    command += ["-batch", "-"] if batch is not None else list(args)
    result = subprocess.run(
        command,
        input="\n".join(batch) + "\n" if batch is not None else None,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        error = " ".join(result.stderr.split()) or f"exit status {result.returncode}"
        if "Operation not permitted" in error or "Permission denied" in error:
            raise _Unavailable(f"{ROOT_NEEDED} ({error})")
        raise _Unavailable(f"cannot set up the function's network namespace: {' '.join(command[1:])}: {error}")
    return result.stdout


def _in_namespace(name: str, work: Any) -> Any:
    """Run ``work()`` in a short-lived thread that has joined the namespace ``name`` (setns(2) affects the calling
    thread only); sockets it creates stay in that namespace after the thread ends."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            fd = os.open(NETNS_DIR / name, os.O_RDONLY | os.O_CLOEXEC)
            try:
                if _libc().setns(fd, CLONE_NEWNET) != 0:
                    error = ctypes.get_errno()
                    raise OSError(error, f"setns {name}: {os.strerror(error)}")
            finally:
                os.close(fd)
            outcome["value"] = work()
        except BaseException as error:
            outcome["error"] = error

    thread = threading.Thread(target=run, name=f"setns-{name}", daemon=True)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def _listen_in(name: str, places: list[tuple[str, int]]) -> dict[tuple[str, int], socket.socket | OSError]:
    """Listening TCP sockets bound to each (address, port), created inside the namespace."""

    def work() -> dict[tuple[str, int], socket.socket | OSError]:
        made: dict[tuple[str, int], socket.socket | OSError] = {}
        for address, port in places:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind((address, port))
                sock.listen(128)
            except OSError as error:
                sock.close()
                made[(address, port)] = error
                continue
            made[(address, port)] = sock
        return made

    return _in_namespace(name, work) if places else {}


def _write(path: Path, text: str) -> None:
    """Rewrite a file in place.  ``ip netns exec`` bind-mounts the file itself, so a process already running in
    the namespace (a warm execution environment) keeps the inode it was given: the same inode must change for it
    to see new names.  One write, then the truncation, so that no reader sees an empty file."""
    data = text.encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        os.pwrite(fd, data, 0)
        os.ftruncate(fd, len(data))
        os.fchmod(fd, 0o644)
    finally:
        os.close(fd)


def _etc_files(name: str, hosts: dict[str, list[str]]) -> None:
    """/etc/netns/<name>/: hosts with the VPC's names; nsswitch.conf resolving hosts from files only; resolv.conf
    naming no server that answers.  Only files that exist in /etc are written (``ip netns exec`` mounts each
    over its namesake)."""
    directory = ETC_NETNS / name
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o755)
    lines = [
        "127.0.0.1\tlocalhost",
        "::1\tlocalhost ip6-localhost ip6-loopback",
        "# The names the function resolves inside its VPC (emulator/dataplane/network.py).",
    ]
    lines += [f"{address}\t{host}" for host, addresses in hosts.items() for address in addresses]
    _write(directory / "hosts", "\n".join(lines) + "\n")
    nsswitch = Path("/etc/nsswitch.conf")
    if nsswitch.exists():
        kept = [line for line in nsswitch.read_text().splitlines() if not line.strip().startswith("hosts:")]
        _write(directory / "nsswitch.conf", "\n".join([*kept, "hosts:          files"]) + "\n")
    if Path("/etc/resolv.conf").exists():
        _write(
            directory / "resolv.conf", "# No DNS server answers inside the function's network.\nnameserver 127.0.0.1\n"
        )


# -- which emulator process made a namespace -------------------------------------------------------------------------
def _start_time(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[-1].split()[19]  # field 22, starttime


def _owner_record() -> str:
    return json.dumps({"pid": os.getpid(), "start": _start_time(os.getpid())})


def _owner_alive(name: str) -> bool:
    try:
        owner = json.loads((OWNERS_DIR / name).read_text())
    except (OSError, ValueError):
        return False
    pid = owner.get("pid")
    return isinstance(pid, int) and owner.get("start") is not None and _start_time(pid) == owner.get("start")


def _delete_namespace(name: str) -> None:
    if (NETNS_DIR / name).exists():
        with contextlib.suppress(_Unavailable):
            _ip("netns", "delete", name)
    shutil.rmtree(ETC_NETNS / name, ignore_errors=True)
    with contextlib.suppress(OSError):
        (OWNERS_DIR / name).unlink()


def remove_stale() -> list[str]:
    """Remove the ``emu-*`` namespaces (and their /etc/netns directories) whose emulator process is gone."""
    if availability() is not None:
        return []
    with _LOCK:
        mine = set(_namespaces)
    names = {p.name for d in (NETNS_DIR, ETC_NETNS, OWNERS_DIR) if d.is_dir() for p in d.glob(f"{PREFIX}*")}
    stale = sorted(n for n in names if n not in mine and not _owner_alive(n))
    for name in stale:
        _delete_namespace(name)
    return stale


# -- the STS relay ---------------------------------------------------------------------------------------------------
_contexts: dict[tuple[str, ...], ssl.SSLContext] = {}


def _sts_context(region: str) -> ssl.SSLContext:
    """TLS as STS presents it: a certificate for its Regional name and the names of its interface endpoints
    (AWS PrivateLink Guide: clients may call the service through the endpoint-specific names), issued by the
    emulator's CA, which stands in for the Amazon root CAs."""
    from . import ca

    names = (f"sts.{region}.amazonaws.com", f"*.sts.{region}.vpce.amazonaws.com")
    with _LOCK:
        if names not in _contexts:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.minimum_version = ssl.TLSVersion.TLSv1_2
            context.load_cert_chain(*ca.authority().issue(names))
            _contexts[names] = context
        return _contexts[names]


class StsRelay:
    """Accepts TLS clients on ``sock`` and relays their bytes, decrypted, to the emulator's HTTP API (which tells
    STS by the request's Host header or signature, as the endpoint on AWS passes the request to STS)."""

    def __init__(self, sock: socket.socket, context: ssl.SSLContext) -> None:
        self._sock = sock
        self._context = context
        self._closed = False
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        threading.Thread(target=self._accept, name="sts-relay", daemon=True).start()

    def _track(self, *sockets: socket.socket, forget: tuple[socket.socket, ...] = ()) -> bool:
        with self._lock:
            self._open.difference_update(forget)
            if self._closed:
                return False
            self._open.update(sockets)
            return True

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._sock.accept()
            except OSError:
                return
            if not self._track(connection):
                connection.close()
                return
            threading.Thread(target=self._serve, args=(connection,), name="sts-relay-connection", daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        held: list[socket.socket] = [connection]
        try:
            # Requests and answers go out at once, not after delayed acknowledgements (Nagle's algorithm).
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            connection.settimeout(HANDSHAKE_TIMEOUT)
            tls = self._context.wrap_socket(connection, server_side=True)
            held.append(tls)
            address = _emulator_address
            if address is None or not self._track(tls, forget=(connection,)):
                return
            upstream = socket.create_connection(address, timeout=HANDSHAKE_TIMEOUT)
            upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            held.append(upstream)
            if not self._track(upstream):
                return
            tls.settimeout(None)
            upstream.settimeout(None)
            _relay(tls, upstream)
        except (OSError, ValueError):
            pass
        finally:
            for sock in held:
                with contextlib.suppress(OSError):
                    sock.close()
            self._track(forget=tuple(held))

    def close(self) -> None:
        with self._lock:
            self._closed = True
            open_sockets, self._open = list(self._open), set()
        for sock in [self._sock, *open_sockets]:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()


def _relay(tls: ssl.SSLSocket, upstream: socket.socket) -> None:
    """Copy bytes both ways in one thread (an SSL socket must not be read and written by two threads at once)
    until either side closes."""
    with selectors.DefaultSelector() as selector:
        selector.register(tls, selectors.EVENT_READ, upstream)
        selector.register(upstream, selectors.EVENT_READ, tls)
        while True:
            pending = tls.pending()  # decrypted bytes already read from the socket
            ready = [(tls, upstream)] if pending else [(key.fileobj, key.data) for key, _ in selector.select()]
            for source, sink in ready:
                data = source.recv(BUFFER)
                if not data:
                    return
                sink.sendall(data)


# -- namespaces --------------------------------------------------------------------------------------------------------
def namespace_name(fn: Any) -> str:
    """``emu-`` and a short hash of the emulator process, the function's account, Region and name."""
    seed = f"{os.getpid()}:{fn.account_id}:{fn.region}:{fn.function_name}"
    return PREFIX + hashlib.sha256(seed.encode()).hexdigest()[:10]


class _Namespace:
    def __init__(self, name: str) -> None:
        self.name = name
        self.lock = threading.Lock()
        self.made = False
        self.listeners: dict[tuple[str, int], tuple[tuple, Listener]] = {}

    def create(self) -> None:
        _delete_namespace(self.name)  # whatever an earlier attempt left
        OWNERS_DIR.mkdir(parents=True, exist_ok=True)
        (OWNERS_DIR / self.name).write_text(_owner_record())
        self.made = True  # from here on, destroy() removes what exists
        _ip("netns", "add", self.name)
        _ip(
            namespace=self.name,
            batch=[
                "link set lo up",
                f"link add {BLACKHOLE_DEVICE} type veth peer name {BLACKHOLE_PEER}",
                f"link set {BLACKHOLE_DEVICE} up",
                f"link set {BLACKHOLE_PEER} up",
                f"neigh replace {BLACKHOLE_GATEWAY} lladdr {BLACKHOLE_MAC} dev {BLACKHOLE_DEVICE} nud permanent",
                f"route replace default via {BLACKHOLE_GATEWAY} dev {BLACKHOLE_DEVICE} onlink",
            ],
        )
        _etc_files(self.name, {})

    def exists(self) -> bool:
        return self.made and (NETNS_DIR / self.name).exists()

    def addresses(self) -> set[str]:
        """The IPv4 addresses on lo other than the loopback ones."""
        links = json.loads(_ip("-json", "address", "show", "dev", "lo", namespace=self.name) or "[]")
        return {
            info["local"]
            for link in links
            for info in link.get("addr_info", [])
            if info.get("family") == "inet" and not ipaddress.ip_address(info["local"]).is_loopback
        }

    def apply(self, view: View) -> None:
        # Listeners that went away or now serve something else.
        for place, (what, listener) in list(self.listeners.items()):
            if view.listeners.get(place) != what:
                del self.listeners[place]
                _close(listener)
        # Addresses: the function's own and the admitted targets'; the others leave lo (and so are dropped).
        wanted = {a for a, _ in view.listeners} | ({view.own_address} if view.own_address else set())
        present = self.addresses()
        commands = [f"address del {a}/32 dev lo" for a in sorted(present - wanted)]
        commands += [f"address add {a}/32 dev lo" for a in sorted(wanted - present)]
        if commands:
            _ip(namespace=self.name, batch=commands)
        # New listeners, created inside the namespace and handed to what serves them.
        new = [place for place in view.listeners if place not in self.listeners]
        for place, made in _listen_in(self.name, new).items():
            if isinstance(made, OSError):
                LOGGER.warning("no listener on %s:%s in %s: %s", *place, self.name, made)
                continue
            what = view.listeners[place]
            try:
                self.listeners[place] = (what, _serve(made, what))
            except Exception:
                LOGGER.exception("cannot serve %s on %s:%s", what, *place)
                made.close()
        _etc_files(self.name, view.hosts)

    def destroy(self) -> None:
        for _, listener in self.listeners.values():
            _close(listener)
        self.listeners.clear()
        if self.made:
            _delete_namespace(self.name)
        self.made = False


def _close(listener: Listener) -> None:
    try:
        listener.close()
    except Exception:
        LOGGER.exception("closing a listener failed")


def _serve(sock: socket.socket, what: tuple) -> Listener:
    if what[0] == "sts":
        return StsRelay(sock, _sts_context(what[1]))
    proxy = importlib.import_module(f"{__package__}.proxy")
    _, account_id, region, proxy_name, endpoint_name = what
    return proxy.serve(sock, proxy.EndpointTarget(account_id, region, proxy_name, endpoint_name))


_LOCK = threading.RLock()
_namespaces: dict[str, _Namespace] = {}
_stale_checked = False


def sandbox_for(fn: Any) -> Sandbox:
    """Prepare (or refresh) the function's network namespace for one invocation; see the module's docstring."""
    global _stale_checked
    reason = availability()
    if reason is not None:
        return Sandbox([], reason)
    if not _stale_checked:
        _stale_checked = True
        remove_stale()
    name = namespace_name(fn)
    with _LOCK:
        namespace = _namespaces.setdefault(name, _Namespace(name))
    with namespace.lock:
        try:
            if not namespace.exists():
                namespace.destroy()
                namespace.create()
            namespace.apply(view_of(fn))
        except (_Unavailable, OSError) as error:  # nothing half-made stays behind
            namespace.destroy()
            with _LOCK:
                _namespaces.pop(name, None)
            reason = str(error) if isinstance(error, _Unavailable) else f"cannot set up the function's network: {error}"
            return Sandbox([], reason)
    return Sandbox([_ip_command() or "ip", "netns", "exec", name], None)


def release(fn: Any) -> None:
    """Remove the function's namespace, its /etc/netns directory and its listeners."""
    name = namespace_name(fn)
    with _LOCK:
        namespace = _namespaces.pop(name, None)
    if namespace is not None:
        with namespace.lock:
            namespace.destroy()


def stop() -> None:
    """Remove every namespace this emulator process made (at the server's stop and at exit)."""
    with _LOCK:
        namespaces = list(_namespaces.values())
        _namespaces.clear()
    for namespace in namespaces:
        with namespace.lock:
            namespace.destroy()


atexit.register(stop)
