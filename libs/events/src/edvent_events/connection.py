"""How a client reaches the broker: its address and the credentials it proves itself with.

Every Kafka client of the platform (relay, consumers, admin, CLI, tests, bench) is built
from one `KafkaConnection`, so none can forget the credentials. The broker authenticates
every client (SASL SCRAM-SHA-512; over TLS on a cluster) and authorises it with ACLs
(`edvent_events.acls`). Functions that took an address (`bootstrap_servers: str`) still
accept one: it means a connection without credentials, which only a broker without
authentication accepts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from aiokafka.helpers import create_ssl_context

SecurityProtocol = Literal["PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL", "SSL"]
SaslMechanism = Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"]


@dataclass(frozen=True)
class KafkaConnection:
    bootstrap_servers: str
    security_protocol: SecurityProtocol = "PLAINTEXT"
    sasl_mechanism: SaslMechanism = "SCRAM-SHA-512"
    username: str | None = None
    password: str | None = None
    # The CA that signed the brokers' certificates (SASL_SSL, SSL); None: the system's.
    ssl_cafile: str | None = None

    def __post_init__(self) -> None:
        if self.sasl and not (self.username and self.password):
            raise ValueError(f"{self.security_protocol} needs a username and a password")

    @property
    def sasl(self) -> bool:
        return self.security_protocol.startswith("SASL")

    @property
    def principal(self) -> str | None:
        """The ACLs' name for whoever connects this way (`User:<name>`)."""
        return f"User:{self.username}" if self.sasl and self.username else None

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for any aiokafka client (producer, consumer, admin)."""
        kwargs: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap_servers,
            "security_protocol": self.security_protocol,
        }
        if self.sasl:
            kwargs |= {
                "sasl_mechanism": self.sasl_mechanism,
                "sasl_plain_username": self.username,
                "sasl_plain_password": self.password,
            }
        if self.security_protocol.endswith("SSL"):
            kwargs["ssl_context"] = create_ssl_context(cafile=self.ssl_cafile)
        return kwargs

    def as_user(self, username: str, password: str) -> KafkaConnection:
        """The same broker, as another principal (SASL on the plain listener if unset)."""
        protocol: SecurityProtocol = self.security_protocol if self.sasl else "SASL_PLAINTEXT"
        return KafkaConnection(
            bootstrap_servers=self.bootstrap_servers,
            security_protocol=protocol,
            sasl_mechanism=self.sasl_mechanism,
            username=username,
            password=password,
            ssl_cafile=self.ssl_cafile,
        )

    def __repr__(self) -> str:  # never print the password
        who = f" as {self.username}" if self.sasl else ""
        return f"KafkaConnection({self.bootstrap_servers} {self.security_protocol}{who})"

    __str__ = __repr__


Kafka = str | KafkaConnection
"""What the library's functions take: a connection, or a bare address (no credentials)."""


def connection(kafka: Kafka) -> KafkaConnection:
    return kafka if isinstance(kafka, KafkaConnection) else KafkaConnection(kafka)


def client_kwargs(kafka: Kafka) -> dict[str, Any]:
    return connection(kafka).client_kwargs()
