"""Stack config validation: bad input is refused by key and reason, before any resource."""

from __future__ import annotations

import copy
import ipaddress
from typing import Any

import pytest

from reevo_infra import config, offline
from reevo_infra.config import ConfigError


def raw(stack: str) -> dict[str, Any]:
    return copy.deepcopy(config.raw_from_flat(offline.stack_config(stack)))


def problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as err:
        config.parse(data)
    return err.value.problems


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_committed_stack_files_are_valid(stack: str) -> None:
    assert config.parse(raw(stack)).environment == stack


def test_stack_files_use_distinct_vpc_blocks() -> None:
    dev = ipaddress.IPv4Network(raw("dev")["network"]["cidr"])
    prod = ipaddress.IPv4Network(raw("prod")["network"]["cidr"])
    assert not dev.overlaps(prod)


@pytest.mark.parametrize("block", ["10.0.0.0", "10.0.0/16", "300.0.0.0/16", "banana"])
def test_malformed_cidr_names_the_key(block: str) -> None:
    data = raw("dev")
    data["network"]["cidr"] = block
    [problem] = problems(data)
    assert problem.startswith("reevo:network.cidr: ")


def test_cidr_with_host_bits_is_refused() -> None:
    data = raw("dev")
    data["network"]["cidr"] = "10.10.0.1/16"
    [problem] = problems(data)
    assert problem.startswith("reevo:network.cidr: ") and "host bits" in problem


@pytest.mark.parametrize("block", ["10.0.0.0/8", "10.0.0.0/24"])
def test_vpc_size_outside_the_subnet_plan_is_refused(block: str) -> None:
    data = raw("dev")
    data["network"]["cidr"] = block
    [problem] = problems(data)
    assert problem.startswith("reevo:network.cidr: prefix must be /16 to /20")


def test_unknown_key_is_refused_by_name() -> None:
    data = raw("dev")
    data["databse"] = {"multiAz": True}
    data["network"]["natGateway"] = "single"
    assert sorted(problems(data)) == [
        "reevo:databse: unknown key",
        "reevo:network.natGateway: unknown key",
    ]


@pytest.mark.parametrize(
    ("path", "value", "key"),
    [
        (("network", "azCount"), "three", "reevo:network.azCount"),
        (("database", "multiAz"), "sometimes", "reevo:database.multiAz"),
        (("services", 0, "port"), 80, "reevo:services[0].port"),
        (("logRetentionDays",), 0, "reevo:logRetentionDays"),
        (("gateway", "mfa"), "MAYBE", "reevo:gateway.mfa"),
    ],
)
def test_wrong_types_and_values_name_the_key(path: tuple, value: Any, key: str) -> None:
    data = raw("dev")
    target: Any = data
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    [problem] = problems(data)
    assert problem.startswith(f"{key}: "), problem


def test_missing_required_key_is_named() -> None:
    data = raw("dev")
    del data["owner"]
    assert problems(data) == ["reevo:owner: Field required"]


@pytest.mark.parametrize(
    ("path", "value", "key", "requirement"),
    [
        (("network", "azCount"), 2, "reevo:network.azCount", "RNF-CF-01"),
        (("network", "natGateways"), "single", "reevo:network.natGateways", "RNF-CF-01"),
        (("logRetentionDays",), 90, "reevo:logRetentionDays", "RNF-S-04"),
    ],
)
def test_prod_below_its_network_invariants_is_refused(
    path: tuple, value: Any, key: str, requirement: str
) -> None:
    data = raw("prod")
    target: Any = data
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    [problem] = problems(data)
    assert problem.startswith(f"{key}: ") and requirement in problem, problem


def test_every_problem_gets_its_own_line() -> None:
    data = raw("prod")
    data["network"]["azCount"] = 2
    data["network"]["natGateways"] = "single"
    with pytest.raises(ConfigError) as caught:
        config.parse(data)
    assert len(caught.value.problems) == 2
    assert str(caught.value).count("\n  - ") == 2


def test_dev_may_use_fewer_azs_and_one_nat() -> None:
    cfg = config.parse(raw("dev"))
    assert (cfg.network.az_count, cfg.network.nat_gateways) == (2, "single")


def test_region_defaults_to_sao_paulo() -> None:
    data = raw("dev")
    del data["region"]
    assert config.parse(data).region == "sa-east-1"


def test_bad_config_registers_no_resource() -> None:
    monitor = offline.RecordingMonitor(offline.FakeCloud("sa-east-1"))
    with pytest.raises(ConfigError, match=r"reevo:network\.azCount"):
        offline.evaluate(
            "prod",
            overrides={
                "reevo:network": {"cidr": "10.20.0.0/16", "azCount": 2, "natGateways": "perAz"}
            },
            monitor=monitor,
        )
    registered = [r.type for r in monitor.registrations.values()]
    assert registered == ["pulumi:pulumi:Stack"]


@pytest.mark.parametrize(
    ("block", "reason"),
    [
        ("169.254.0.0/16", "must lie in 10.0.0.0/8"),
        ("224.0.0.0/16", "must lie in 10.0.0.0/8"),
        ("8.8.0.0/16", "must lie in 10.0.0.0/8"),
        ("172.17.0.0/16", "overlaps 172.17.0.0/16"),
    ],
)
def test_vpc_blocks_aws_or_eks_would_refuse_are_refused(block: str, reason: str) -> None:
    data = raw("dev")
    data["network"]["cidr"] = block
    [problem] = problems(data)
    assert problem.startswith("reevo:network.cidr: ") and reason in problem, problem


@pytest.mark.parametrize(("key", "value"), [("owner", "team,a"), ("costCenter", "x" * 257)])
def test_tag_values_iam_would_refuse_are_refused(key: str, value: str) -> None:
    data = raw("dev")
    data[key] = value
    [problem] = problems(data)
    assert problem.startswith(f"reevo:{key}: "), problem


def test_public_eks_endpoint_needs_public_cidrs() -> None:
    data = raw("dev")
    data["cluster"] = {
        **data["cluster"],
        "endpointPublicAccess": True,
        "publicAccessCidrs": ["10.0.0.0/8"],
    }
    [problem] = problems(data)
    assert problem.startswith("reevo:cluster.publicAccessCidrs: 10.0.0.0/8 is not a public")


def test_prod_alarms_need_a_subscriber_and_addresses_are_unique() -> None:
    data = raw("prod")
    data["alerts"] = {**data["alerts"], "emails": []}
    assert problems(data) == [
        "reevo:alerts.emails: prod alarms need at least one subscriber (RNF-CF-01)"
    ]
    data["alerts"]["emails"] = ["a@reevo.com.br", "A@reevo.com.br"]
    [problem] = problems(data)
    assert problem.startswith("reevo:alerts.emails: ") and "twice" in problem


def test_audit_logs_are_kept_180_days_in_every_environment() -> None:
    data = raw("dev")
    data["logRetentionDays"] = 30
    [problem] = problems(data)
    assert problem.startswith("reevo:logRetentionDays: ") and "RNF-S-04" in problem


@pytest.mark.parametrize(("key", "value"), [("cpu", "0"), ("memory", "0Mi")])
def test_services_need_a_real_request(key: str, value: str) -> None:
    data = raw("dev")
    data["services"][0][key] = value
    [problem] = problems(data)
    assert problem.startswith(f"reevo:services[0].{key}: "), problem


def test_custom_domain_must_be_a_domain_name() -> None:
    data = raw("dev")
    data["gateway"] = {**data["gateway"], "domainName": "not a domain!"}
    assert any(p.startswith("reevo:gateway.domainName: ") for p in problems(data))
