"""Wraps each property of `reevo_infra.requirements` as a mandatory pulumi-policy policy.

Resource properties become ResourceValidationPolicies and stack properties
StackValidationPolicies; the check functions are the ones the tests and the report run.
"""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyResource,
    ReportViolation,
    ResourceValidation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidation,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

from reevo_infra.requirements import (
    PROPERTIES,
    Property,
    Resource,
    ResourceProperty,
    StackProperty,
    environment_of,
    stack_environment,
)


def policy_name(prop: Property) -> str:
    """E.g. `rnf-s-01-customer-key-encryption`: unique, and names the requirement."""
    return f"{prop.requirement.lower()}-{prop.key}"


def _resource_validation(prop: ResourceProperty) -> ResourceValidation:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if not prop.applies_to(args.resource_type):
            return
        environment = environment_of(args.props, args.urn)
        if prop.prod_only and environment != "prod":
            return
        problem = prop.check(args.resource_type, args.props, environment)
        if problem is not None:
            report_violation(f"{prop.requirement} ({prop.title}): {problem}", None)

    return validate


def _known_id(r: PolicyResource) -> str:
    # A resource still to be created has no id at preview; joins on it then find nothing
    # rather than aborting the whole stack policy.
    try:
        return str(r.props.get("id") or "")
    except UnknownValueError:
        return ""


def view(resources: list[PolicyResource]) -> list[Resource]:
    """The engine's resources as the checks' `Resource`, providers included once each."""
    seen: dict[str, Resource] = {}
    for r in resources:
        if r.provider is not None and r.provider.urn not in seen:
            p = r.provider
            seen[p.urn] = Resource(urn=p.urn, type=p.resource_type, name=p.name, props=p.props)
        seen[r.urn] = Resource(
            urn=r.urn,
            type=r.resource_type,
            name=r.name,
            props=r.props,
            protect=bool(r.opts.protect),
            parent=r.parent.urn if r.parent else "",
            provider=r.provider.urn if r.provider else "",
            id=_known_id(r),
        )
    return list(seen.values())


def _stack_validation(prop: StackProperty) -> StackValidation:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        resources = view(args.resources)
        if prop.prod_only and stack_environment(resources) != "prod":
            return
        for finding in prop.check(resources):
            if not finding.ok:
                report_violation(
                    f"{prop.requirement} ({prop.title}): {finding.message}", finding.urn
                )

    return validate


def to_policy(prop: Property) -> Policy:
    description = f"{prop.requirement}: {prop.title}"
    if isinstance(prop, ResourceProperty):
        return ResourceValidationPolicy(
            name=policy_name(prop),
            description=description,
            validate=_resource_validation(prop),
            enforcement_level=EnforcementLevel.MANDATORY,
        )
    return StackValidationPolicy(
        name=policy_name(prop),
        description=description,
        validate=_stack_validation(prop),
        enforcement_level=EnforcementLevel.MANDATORY,
    )


POLICIES: list[Policy] = [to_policy(p) for p in PROPERTIES]
