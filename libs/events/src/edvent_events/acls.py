"""Who may do what on the broker: the platform's principals and their ACLs.

One principal per service (its name: `identity`, `content`, `assessment`,
`ai-notes`, `learning-records`), a read-only `data-team`, and the stack's admin (a super
user, so it needs no ACL). A service writes only the topics it owns, its own dead-letter topics and
nothing else; it reads only the topics it consumes (and the retry topics that bring
its own dead letters back), in consumer groups named after it. `data-team` reads every
domain topic in its own groups `data-team.*` and writes nothing. Everything else is
refused: the broker runs with `allow.everyone.if.no.acl.found=false`.

The same table is applied by the local stack (`edvent_localstack.kafka`), by
`edvent-events acls` (the Helm Job where Strimzi is absent), and rendered as Strimzi
`KafkaUser` resources by the charts (deploy/helm: keep them in step).

aiokafka's admin client has no call for SCRAM credentials or for several ACLs at once,
so the two requests are built here from its protocol types (KIP-554's
AlterUserScramCredentials v0 and CreateAcls v1).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar, Final, TypeAlias

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import for_code
from aiokafka.protocol.api import Request, RequestStruct, Response
from aiokafka.protocol.types import (
    Array,
    CompactArray,
    CompactBytes,
    CompactString,
    Int8,
    Int16,
    Int32,
    Schema,
    String,
    TaggedFields,
)

from edvent_events.topics import (
    AI_NOTES_NOTES,
    AI_NOTES_USER_EXPORTS,
    ALL_TOPICS,
    ASSESSMENT_ATTEMPTS,
    ASSESSMENT_EXAMS,
    ASSESSMENT_USER_EXPORTS,
    CONTENT_COURSES,
    CONTENT_LESSONS,
    CONTENT_USER_EXPORTS,
    IDENTITY_USER_KEYS,
    IDENTITY_USERS,
    dlq_topic,
    retry_topic,
)

# identity's compacted topic of per-user keys (erasure by forgetting a key); identity
# writes it, data teams read it.
DOMAIN_TOPICS: Final[tuple[str, ...]] = (*ALL_TOPICS, IDENTITY_USER_KEYS)
COMPACTED_TOPICS: Final[frozenset[str]] = frozenset({IDENTITY_USER_KEYS})

DATA_TEAM: Final = "data-team"
DATA_TEAM_GROUP_PREFIX: Final = "data-team."
ADMIN: Final = "admin"

OWNS: Final[Mapping[str, tuple[str, ...]]] = {
    "identity": (IDENTITY_USERS, IDENTITY_USER_KEYS),
    "content": (CONTENT_COURSES, CONTENT_LESSONS, CONTENT_USER_EXPORTS),
    "assessment": (ASSESSMENT_EXAMS, ASSESSMENT_ATTEMPTS, ASSESSMENT_USER_EXPORTS),
    "ai-notes": (AI_NOTES_NOTES, AI_NOTES_USER_EXPORTS),
    # Publishes nothing: its statements go to the LRS.
    "learning-records": (),
}
# What each service's consumer subscribes to. A new subscription needs a line here
# (and in the charts' values), or the broker refuses it: TopicAuthorizationFailed.
CONSUMES: Final[Mapping[str, tuple[str, ...]]] = {
    "identity": (
        CONTENT_COURSES,
        CONTENT_USER_EXPORTS,
        ASSESSMENT_USER_EXPORTS,
        AI_NOTES_USER_EXPORTS,
    ),
    "content": (IDENTITY_USERS,),
    "assessment": (IDENTITY_USERS, CONTENT_COURSES, ASSESSMENT_ATTEMPTS),
    "ai-notes": (IDENTITY_USERS, CONTENT_COURSES, CONTENT_LESSONS),
    "learning-records": (
        IDENTITY_USERS,
        CONTENT_COURSES,
        CONTENT_LESSONS,
        ASSESSMENT_ATTEMPTS,
        AI_NOTES_NOTES,
    ),
}
SERVICES: Final[tuple[str, ...]] = tuple(OWNS)

# Kafka's enums (org.apache.kafka.common.acl / resource).
TOPIC, GROUP = 2, 3
LITERAL, PREFIXED = 3, 4
READ, WRITE, CREATE, DESCRIBE = 3, 4, 5, 8
ALLOW = 3
SCRAM_SHA_512 = 2
SCRAM_ITERATIONS = 8192  # Kafka's minimum for SHA-512 is 4096


@dataclass(frozen=True)
class Acl:
    principal: str  # User:<name>
    resource_type: int
    resource_name: str
    pattern_type: int
    operation: int


def service_acls(service: str) -> list[Acl]:
    user = f"User:{service}"
    acls: list[Acl] = []

    def allow(resource_type: int, name: str, *operations: int, pattern: int = LITERAL) -> None:
        acls.extend(Acl(user, resource_type, name, pattern, op) for op in operations)

    for topic in OWNS[service]:
        # CREATE: the charts' topics Job (where Strimzi is absent) runs as the service.
        allow(TOPIC, topic, WRITE, CREATE, DESCRIBE)
    for topic in CONSUMES[service]:
        allow(TOPIC, topic, READ, DESCRIBE)
        # Its consumer creates (when missing), writes its dead letters, and reads
        # them back from the retry topic that `edvent-events redrive` fills.
        allow(TOPIC, dlq_topic(topic, service), CREATE, WRITE, DESCRIBE)
        allow(TOPIC, retry_topic(topic, service), CREATE, READ, DESCRIBE)
    # Its consumer group is named after it (tests add a suffix: `content-…`).
    allow(GROUP, service, READ, DESCRIBE, pattern=PREFIXED)
    return acls


def data_team_acls() -> list[Acl]:
    user = f"User:{DATA_TEAM}"
    acls = [
        Acl(user, TOPIC, topic, LITERAL, op) for topic in DOMAIN_TOPICS for op in (READ, DESCRIBE)
    ]
    acls += [Acl(user, GROUP, DATA_TEAM_GROUP_PREFIX, PREFIXED, op) for op in (READ, DESCRIBE)]
    return acls


def platform_acls(services: Iterable[str] = SERVICES, *, data_team: bool = True) -> list[Acl]:
    acls = [acl for service in services for acl in service_acls(service)]
    return acls + (data_team_acls() if data_team else [])


def service_topics() -> list[str]:
    """Every topic the platform's principals use, for the stack's admin to create: the
    domain topics, and each consumer's dead-letter and retry topics."""
    topics = list(DOMAIN_TOPICS)
    for service, consumed in CONSUMES.items():
        for topic in consumed:
            topics += [dlq_topic(topic, service), retry_topic(topic, service)]
    return topics


class AclError(RuntimeError):
    """The broker refused a credential or an ACL."""


# --- CreateAcls v1 (several bindings in one request) -------------------------------


class _CreateAclsResponse(Response):  # type: ignore[misc]
    API_KEY = 30
    API_VERSION = 1
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        ("creation_responses", Array(("error_code", Int16), ("error_message", String("utf-8")))),
    )


class _CreateAclsV1(RequestStruct):  # type: ignore[misc]
    API_KEY = 30
    API_VERSION = 1
    RESPONSE_TYPE = _CreateAclsResponse
    SCHEMA = Schema(
        (
            "creations",
            Array(
                ("resource_type", Int8),
                ("resource_name", String("utf-8")),
                ("resource_pattern_type", Int8),
                ("principal", String("utf-8")),
                ("host", String("utf-8")),
                ("operation", Int8),
                ("permission_type", Int8),
            ),
        ),
    )


class _CreateAcls(Request[_CreateAclsV1]):  # type: ignore[misc]
    API_KEY: ClassVar[int] = 30

    def __init__(self, acls: Sequence[Acl]) -> None:
        self.acls = acls

    def build(self, request_struct_class: type[_CreateAclsV1]) -> _CreateAclsV1:
        return request_struct_class(
            [
                (
                    a.resource_type,
                    a.resource_name,
                    a.pattern_type,
                    a.principal,
                    "*",
                    a.operation,
                    ALLOW,
                )
                for a in self.acls
            ]
        )


async def apply_acls(admin: AIOKafkaAdminClient, acls: Sequence[Acl]) -> None:
    """Create the bindings (an existing one is left as it is). ACLs are not removed
    here: drop a stale one with kafka-acls.sh --remove."""
    if not acls:
        return
    response = await admin._send_request(_CreateAcls(acls))
    problems = [
        f"{acl}: {for_code(code).__name__} {message or ''}".strip()
        for acl, (code, message) in zip(acls, response.creation_responses, strict=True)
        if code
    ]
    if problems:
        raise AclError("the broker refused ACLs:\n" + "\n".join(problems))


# --- AlterUserScramCredentials v0 ----------------------------------------------------


class _AlterScramResponse(Response):  # type: ignore[misc]
    API_KEY = 51
    API_VERSION = 0
    FLEXIBLE_VERSION = True
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        (
            "results",
            CompactArray(
                ("user", CompactString("utf-8")),
                ("error_code", Int16),
                ("error_message", CompactString("utf-8")),
                ("tags", TaggedFields),
            ),
        ),
        ("tags", TaggedFields),
    )


class _AlterScramV0(RequestStruct):  # type: ignore[misc]
    API_KEY = 51
    API_VERSION = 0
    FLEXIBLE_VERSION = True
    RESPONSE_TYPE = _AlterScramResponse
    SCHEMA = Schema(
        (
            "deletions",
            CompactArray(
                ("name", CompactString("utf-8")), ("mechanism", Int8), ("tags", TaggedFields)
            ),
        ),
        (
            "upsertions",
            CompactArray(
                ("name", CompactString("utf-8")),
                ("mechanism", Int8),
                ("iterations", Int32),
                ("salt", CompactBytes),
                ("salted_password", CompactBytes),
                ("tags", TaggedFields),
            ),
        ),
        ("tags", TaggedFields),
    )


Upsertion: TypeAlias = tuple[str, int, int, bytes, bytes, dict[int, bytes]]


class _AlterScram(Request[_AlterScramV0]):  # type: ignore[misc]
    API_KEY: ClassVar[int] = 51

    def __init__(self, upsertions: list[Upsertion]) -> None:
        self.upsertions = upsertions

    def build(self, request_struct_class: type[_AlterScramV0]) -> _AlterScramV0:
        return request_struct_class([], self.upsertions, {})


def salted_password(password: str, salt: bytes, iterations: int = SCRAM_ITERATIONS) -> bytes:
    """RFC 5802's SaltedPassword, Hi(password, salt, i): what the broker stores (as
    keys derived from it), so the password itself never travels."""
    return hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)


async def upsert_scram_users(admin: AIOKafkaAdminClient, users: Mapping[str, str]) -> None:
    """Set each user's SCRAM-SHA-512 password (creating the user when new)."""
    upsertions: list[Upsertion] = []
    for name, password in sorted(users.items()):
        salt = secrets.token_bytes(32)
        upsertions.append(
            (name, SCRAM_SHA_512, SCRAM_ITERATIONS, salt, salted_password(password, salt), {})
        )
    response = await admin._send_request(_AlterScram(upsertions))
    problems = [
        f"{user}: {for_code(code).__name__} {message or ''}".strip()
        for user, code, message, _tags in response.results
        if code
    ]
    if problems:
        raise AclError("the broker refused SCRAM credentials:\n" + "\n".join(problems))
