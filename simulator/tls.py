"""Local TLS so a client keeps the venue's real URLs: a throwaway CA, a certificate for the venue's
real host names, and an aiohttp resolver that sends those names to the local server.

ccxt keys some error tables by URL (Binance's USD-M table applies only to ``https://fapi.binance.com``),
so a client whose URLs are overridden sees other exception classes than in production. With
``real_url_session`` nothing in ccxt changes: its requests go to the real URLs, resolve to
loopback, and verify against the local CA.
"""

from __future__ import annotations

import datetime
import functools
import ipaddress
import socket
import ssl
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

BINANCE_HOSTS = ("fapi.binance.com", "api.binance.com", "fstream.binance.com")
BYBIT_HOSTS = ("api.bybit.com", "stream.bybit.com")


@dataclass(frozen=True)
class LocalTls:
    server: ssl.SSLContext  # for the venue's listener
    client: ssl.SSLContext  # trusts the local CA only
    ca_pem: bytes  # the CA certificate, for clients in other processes (``--ca-file``)


@functools.cache
def local_tls(hosts: tuple[str, ...]) -> LocalTls:
    """A CA and a certificate for ``hosts`` (and localhost, 127.0.0.1), made once per process (~1 ms)."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "venue-harness local CA")])
    not_before = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)  # virtual time runs from 2026
    not_after = datetime.datetime(2100, 1, 1, tzinfo=datetime.UTC)
    ca_cert = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
               .serial_number(1).not_valid_before(not_before).not_valid_after(not_after)
               .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
               .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(2)
            .not_valid_before(not_before).not_valid_after(not_after)
            .add_extension(x509.SubjectAlternativeName([*(x509.DNSName(h) for h in (*hosts, "localhost")),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    with tempfile.TemporaryDirectory() as tmp:
        cert_file, key_file = Path(tmp) / "venue.pem", Path(tmp) / "venue.key"
        cert_file.write_bytes(cert.public_bytes(pem) + ca_cert.public_bytes(pem))
        key_file.write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server.load_cert_chain(cert_file, key_file)
    ca_pem = ca_cert.public_bytes(pem)
    client = ssl.create_default_context(cadata=ca_pem.decode())
    return LocalTls(server=server, client=client, ca_pem=ca_pem)


class LocalResolver(AbstractResolver):
    """Resolves the venue's real host names to the local listener (its port included)."""

    def __init__(self, hosts: Sequence[str], port: int) -> None:
        self._hosts = frozenset(hosts)
        self._port = port

    async def resolve(self, host: str, port: int = 0, family: int = socket.AF_INET) -> list[ResolveResult]:
        if host not in self._hosts:
            raise OSError(f"{host} is not a venue host this session serves (it serves {sorted(self._hosts)})")
        return [{"hostname": host, "host": "127.0.0.1", "port": self._port, "family": socket.AF_INET, "proto": 0,
                 "flags": socket.AI_NUMERICHOST}]

    async def close(self) -> None:
        return None


def real_url_session(hosts: Sequence[str], port: int, *, ca_file: str | None = None) -> aiohttp.ClientSession:
    """An aiohttp session for ccxt's ``session`` option: real URLs, answered by the local venue.

    In the venue's own process the CA is known; against ``python -m simulator serve --tls`` pass the
    ``--ca-file`` it wrote.
    """
    trust = ssl.create_default_context(cafile=ca_file) if ca_file else local_tls(tuple(hosts)).client
    connector: Any = aiohttp.TCPConnector(resolver=LocalResolver(hosts, port), ssl=trust)
    return aiohttp.ClientSession(connector=connector)
