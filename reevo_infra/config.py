"""Stack configuration: one pydantic model, read once from Pulumi config, checked before use."""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Literal

import pulumi
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from reevo_infra import eks, windows
from reevo_infra.cidr import MAX_AZS, MAX_VPC_PREFIX, MIN_VPC_PREFIX

NAMESPACE = "reevo"

# CloudWatch Logs accepts only these retention values; 0 would mean "never expire", which
# LGPD art. 16 rules out for personal data.
# fmt: off
LOG_RETENTION_DAYS = frozenset((
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, 3653,
))
# fmt: on
_DNS_LABEL = re.compile(r"^[a-z]([a-z0-9-]{0,30}[a-z0-9])?$")
_REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
_VPC_RANGES = tuple(
    ipaddress.IPv4Network(n)
    for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")
)
_DOCKER_BRIDGE = ipaddress.IPv4Network("172.17.0.0/16")
# What IAM, RDS and ElastiCache accept in a tag value.
_TAG_VALUE = r"^[A-Za-z0-9À-ÿ _.:/=+\-@]+$"
_DOMAIN = r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"

# Backup and snapshot windows are daily (UTC), maintenance windows weekly; RDS and ElastiCache
# take the same formats.
DailyWindow = Annotated[str, StringConstraints(pattern=windows.DAILY.pattern)]
WeeklyWindow = Annotated[str, StringConstraints(pattern=windows.WEEKLY.pattern)]


class ConfigError(pulumi.RunError):
    """Stack config that cannot be deployed; one line per problem, each naming its key."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"invalid stack configuration:\n{lines}")


class _Model(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )


def _retention(days: int) -> int:
    if days not in LOG_RETENTION_DAYS:
        allowed = ", ".join(str(d) for d in sorted(LOG_RETENTION_DAYS))
        raise ValueError(f"must be one of CloudWatch's retention values ({allowed})")
    return days


class NetworkConfig(_Model):
    """The VPC: its address block, how many AZs it spans and how it reaches the internet."""

    cidr: ipaddress.IPv4Network = Field(description="VPC block, /16 to /20; subnets derive from it")
    az_count: int = Field(2, ge=2, le=MAX_AZS, description="AZs used; prod needs 3")
    nat_gateways: Literal["single", "perAz"] = Field(
        "perAz", description="'single' shares one NAT (dev cost); 'perAz' gives each AZ its own"
    )

    @field_validator("cidr", mode="before")
    @classmethod
    def _strict_cidr(cls, value: Any) -> Any:
        # strict=True rejects host bits, so "10.0.0.1/16" is an error rather than silently
        # becoming 10.0.0.0/16.
        try:
            block = ipaddress.IPv4Network(str(value), strict=True)
        except ValueError as err:
            raise ValueError(f"not an IPv4 network block: {err}") from None
        if not any(block.subnet_of(r) for r in _VPC_RANGES):
            raise ValueError(
                "must lie in 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 or "
                "100.64.0.0/10, the ranges AWS accepts for a VPC"
            )
        if block.overlaps(_DOCKER_BRIDGE):
            raise ValueError("overlaps 172.17.0.0/16, which EKS nodes use for Docker's bridge")
        if not MIN_VPC_PREFIX <= block.prefixlen <= MAX_VPC_PREFIX:
            raise ValueError(
                f"prefix must be /{MIN_VPC_PREFIX} to /{MAX_VPC_PREFIX}, got /{block.prefixlen}"
            )
        return block


class DatabaseConfig(_Model):
    """RDS PostgreSQL. The master password is always RDS-managed, so no password key exists."""

    engine_version: Literal["16", "17"] = Field(
        "17", description="PostgreSQL major version; RDS applies minor versions itself"
    )
    instance_class: str = Field("db.t4g.medium", pattern=r"^db\.[a-z0-9]+\.[a-z0-9]+$")
    allocated_storage: int = Field(50, ge=20, le=65536, description="initial gp3 GiB")
    max_allocated_storage: int = Field(200, le=65536, description="autoscaling ceiling, GiB")
    multi_az: bool = Field(True, description="standby in another AZ; prod requires it")
    backup_retention_days: int = Field(7, ge=0, le=35)
    backup_window: DailyWindow = Field("05:00-06:00", description="UTC; 02:00-03:00 in Brasilia")
    maintenance_window: WeeklyWindow = Field(
        "sun:06:30-sun:07:30", description="UTC, after backups"
    )
    deletion_protection: bool = Field(True)
    final_snapshot: bool = Field(True, description="snapshot on delete; prod requires it")
    performance_insights_retention_days: int = Field(7, description="7, or a multiple of 31")
    monitoring_interval_seconds: Literal[1, 5, 10, 15, 30, 60] = Field(
        60, description="enhanced monitoring granularity"
    )
    slow_statement_ms: int = Field(
        1000, ge=100, le=600_000, description="log_min_duration_statement, milliseconds"
    )

    @model_validator(mode="before")
    @classmethod
    def _no_password(cls, data: Any) -> Any:
        # RDS rejects a master password together with manageMasterUserPassword, and a
        # password in config would sit in plain text in the stack file (RNF-S-04).
        if isinstance(data, Mapping):
            for key in data:
                if "password" in str(key).lower():
                    raise PydanticCustomError(
                        "password_key",
                        "{key}: no password may be set: RDS manages the master password "
                        "in Secrets Manager (manageMasterUserPassword, RNF-S-04)",
                        {"key": key},
                    )
        return data

    @field_validator("performance_insights_retention_days")
    @classmethod
    def _pi_retention(cls, value: int) -> int:
        if value not in (7, 731) and (value % 31 or not 31 <= value <= 713):
            raise ValueError("must be 7, 731, or 31 times 1 to 23 months")
        return value


class CacheConfig(_Model):
    """ElastiCache for Valkey, used for the marketplace reads."""

    engine_version: Literal["7.2", "8.0", "8.1", "8.2"] = Field(
        "8.0", description="Valkey major.minor; patch releases apply automatically"
    )
    node_type: str = Field("cache.t4g.small", pattern=r"^cache\.[a-z0-9]+\.[a-z0-9]+$")
    num_cache_clusters: int = Field(2, ge=1, le=6, description="primary plus replicas")
    automatic_failover: bool = Field(True)
    multi_az: bool = Field(True)
    transit_encryption: bool = Field(True, description="TLS; the AUTH token requires it")
    snapshot_retention_days: int = Field(7, ge=0, le=35)
    snapshot_window: DailyWindow = Field("04:00-05:00", description="UTC, daily")
    maintenance_window: WeeklyWindow = Field("sun:07:30-sun:08:30", description="UTC")


class ClusterConfig(_Model):
    """EKS control plane and its managed node group."""

    # 1.35 is in EKS standard support until March 2027; 1.34's ended in December 2026.
    version: str = Field("1.35", pattern=r"^1\.\d{2}$", description="Kubernetes minor version")
    endpoint_public_access: bool = Field(False, description="prod must keep this off")
    public_access_cidrs: list[ipaddress.IPv4Network] = Field(default_factory=list)

    @field_validator("public_access_cidrs")
    @classmethod
    def _public_only(cls, values: list[ipaddress.IPv4Network]) -> list[ipaddress.IPv4Network]:
        for block in values:
            if not block.is_global:
                raise ValueError(f"{block} is not a public range; EKS accepts only public ones")
        return values

    admin_principal_arns: list[str] = Field(default_factory=list)
    instance_types: list[str] = Field(default_factory=lambda: ["m7g.large"], min_length=1)
    architecture: Literal["arm64", "x86_64"] = Field("arm64")
    node_min_size: int = Field(2, ge=1)
    node_desired_size: int = Field(2, ge=1)
    node_max_size: int = Field(6, ge=1)
    node_disk_gib: int = Field(50, ge=20, le=1000)

    @field_validator("version")
    @classmethod
    def _pinned_addons(cls, value: str) -> str:
        # Add-on versions are pinned per Kubernetes version; without a row, nothing to pin.
        if value not in eks.ADDON_VERSIONS:
            known = ", ".join(sorted(eks.ADDON_VERSIONS))
            raise ValueError(f"no pinned EKS add-on versions for {value} (known: {known})")
        return value

    @field_validator("admin_principal_arns")
    @classmethod
    def _iam_arns(cls, values: list[str]) -> list[str]:
        for arn in values:
            if not re.match(r"^arn:aws[a-z-]*:iam::\d{12}:(role|user)/.+$", arn):
                raise ValueError(f"{arn!r} is not an IAM role or user ARN")
        return values


class ServiceConfig(_Model):
    """One of the platform's services, as a container image and its scaling bounds."""

    name: str
    image_tag: str = Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
    port: int = Field(8080, ge=1024, le=65535, description="unprivileged: pods run as non-root")
    cpu: str = Field("250m", pattern=r"^[1-9]\d*m?$", description="request; the HPA needs one")
    memory: str = Field("256Mi", pattern=r"^[1-9]\d*(Mi|Gi)$")
    min_replicas: int = Field(2, ge=1)
    max_replicas: int = Field(6, ge=1)
    cpu_target_percent: int = Field(70, ge=10, le=95)
    health_path: str = Field("/healthz", pattern=r"^/")
    ready_path: str = Field("/ready", pattern=r"^/")
    uses_database: bool = Field(True)
    uses_cache: bool = Field(False)
    internet_egress: bool = Field(
        False, description="the service calls external HTTPS APIs, e.g. payment providers"
    )

    @field_validator("name")
    @classmethod
    def _dns_label(cls, value: str) -> str:
        if not _DNS_LABEL.match(value):
            raise ValueError("must be a DNS label: lowercase letters, digits and '-'")
        return value


class GatewayConfig(_Model):
    """The REST API edge, its Cognito identity and its WAF."""

    throttle_rate: float = Field(200, gt=0, description="steady requests per second")
    throttle_burst: int = Field(400, gt=0)
    waf_rate_limit: int = Field(2000, ge=10, le=2_000_000_000, description="per IP, 5 minutes")
    mfa: Literal["OFF", "OPTIONAL", "ON"] = Field("OPTIONAL")
    certificate_arn: str | None = Field(None, pattern=r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:")
    domain_name: str | None = Field(None, pattern=_DOMAIN, max_length=253)


class AlertsConfig(_Model):
    """Where alarms go, and whether they are on."""

    enabled: bool = Field(True, description="prod must keep alarms on")
    emails: list[str] = Field(default_factory=list)
    rds_cpu_percent: float = Field(80, gt=0, le=100)
    rds_free_storage_percent: float = Field(10, gt=0, lt=100)
    rds_freeable_memory_mib: float = Field(256, gt=0)
    rds_max_connections: float = Field(400, gt=0)
    rds_latency_seconds: float = Field(0.05, gt=0)
    cache_cpu_percent: float = Field(75, gt=0, le=100)
    cache_memory_percent: float = Field(80, gt=0, le=100)
    cache_evictions: float = Field(100, ge=0, description="per 5 minutes")
    cache_replication_lag_seconds: float = Field(1, gt=0)
    api_5xx_percent: float = Field(1, gt=0, le=100, alias="api5xxPercent")
    api_p99_latency_ms: float = Field(2000, gt=0)
    slo_target_percent: float = Field(99.9, ge=90, lt=100)

    @field_validator("emails")
    @classmethod
    def _emails(cls, values: list[str]) -> list[str]:
        if len({v.lower() for v in values}) != len(values):
            raise ValueError("lists an address twice")
        for email in values:
            if not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", email):
                raise ValueError(f"{email!r} is not an email address")
        return values


def _default_services() -> list[ServiceConfig]:
    return [
        ServiceConfig(name="credit", image_tag="0.1.0"),
        ServiceConfig(name="payments", image_tag="0.1.0"),
        ServiceConfig(name="marketplace", image_tag="0.1.0", uses_cache=True),
    ]


class StackConfig(_Model):
    """Everything one stack needs; every component's args are built from this."""

    region: str = Field("sa-east-1", description="aws:region; sa-east-1 keeps data in Brazil")
    environment: Literal["dev", "staging", "prod"]
    owner: str = Field(pattern=_TAG_VALUE, max_length=256, description="Owner tag")
    cost_center: str = Field(pattern=_TAG_VALUE, max_length=256, description="CostCenter tag")
    data_classification: Literal["public", "internal", "confidential", "restricted"]
    log_retention_days: int = Field(365, description="audit and access logs, in days")
    network: NetworkConfig
    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    cache: CacheConfig = Field(default_factory=CacheConfig)
    cluster: ClusterConfig = Field(default_factory=ClusterConfig)
    services: list[ServiceConfig] = Field(default_factory=_default_services, min_length=1)
    gateway: GatewayConfig = Field(default_factory=GatewayConfig)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)

    @field_validator("log_retention_days")
    @classmethod
    def _log_retention(cls, value: int) -> int:
        return _retention(value)

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        if not _REGION.match(value):
            raise ValueError("not an AWS region name")
        return value

    @property
    def is_prod(self) -> bool:
        return self.environment == "prod"


def qualified(key: str) -> str:
    """The full config key a problem names: `reevo:...`, or `aws:region`."""
    return "aws:region" if key == "region" else f"{NAMESPACE}:{key}"


def _loc_to_key(loc: tuple[int | str, ...]) -> str:
    key = ""
    for part in loc:
        if isinstance(part, int):
            key += f"[{part}]"
        else:
            key += f".{part}" if key else str(part)
    return qualified(key)


STACK_NAME = re.compile(r"^[a-z][a-z0-9-]{0,10}[a-z0-9]$")
"""Stack names feed physical names with hard AWS limits (an ElastiCache group id is at most
40 characters, a load balancer's 32), so they are short, lowercase DNS labels."""


def stack_problems(stack: str) -> list[str]:
    if STACK_NAME.match(stack):
        return []
    return [
        f"stack name {stack!r}: must be 2-12 lowercase letters, digits or '-', starting "
        "with a letter, because it prefixes AWS names that have length limits"
    ]


def parse(raw: Mapping[str, Any], stack: str | None = None) -> StackConfig:
    """Validate a raw mapping of config keys (namespace stripped) into a StackConfig.

    `stack`, when given, is checked too: it becomes part of physical resource names.
    """
    if stack is not None and (problems := stack_problems(stack)):
        raise ConfigError(problems)
    try:
        cfg = StackConfig.model_validate(dict(raw))
    except ValidationError as err:
        problems = []
        for e in err.errors():
            reason = "unknown key" if e["type"] == "extra_forbidden" else e["msg"]
            reason = reason.removeprefix("Value error, ")
            problems.append(f"{_loc_to_key(e['loc'])}: {reason}")
        raise ConfigError(problems) from None
    # rules.py reads the models defined here, so it is imported once they exist.
    from reevo_infra.rules import rule_problems

    problems = rule_problems(cfg)
    if problems:
        raise ConfigError(problems)
    return cfg


def _decode(value: Any) -> Any:
    # Structured config (objects and lists) reaches the program as JSON text.
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def raw_from_flat(flat: Mapping[str, Any]) -> dict[str, Any]:
    """Turn `reevo:key` / `aws:region` entries into the mapping `parse` expects."""
    raw: dict[str, Any] = {}
    for full_key, value in flat.items():
        namespace, _, key = full_key.partition(":")
        if namespace == NAMESPACE:
            raw[key] = _decode(value)
        elif full_key == "aws:region":
            raw["region"] = value
    return raw


def load() -> StackConfig:
    """Read this stack's config from the Pulumi runtime and validate it."""
    # The SDK offers no public way to list config keys, and unknown keys must be rejected,
    # so read the same maps that pulumi.Config reads from.
    flat = {**pulumi.runtime.config.get_config_env(), **pulumi.runtime.config.CONFIG.get()}
    return parse(raw_from_flat(flat), stack=pulumi.get_stack())
