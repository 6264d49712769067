"""Who may call the API: a Cognito user pool for farmers and investors, and its app client."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import pulumi
import pulumi_aws as aws

from reevo_infra.naming import child_name, tags

GROUPS = {
    "farmers": "Producers who apply for credit and sell in the marketplace",
    "investors": "Investors who fund credit and buy in the marketplace",
}


@dataclass(frozen=True)
class IdentityArgs:
    """Inputs of the `Identity` component."""

    tags: Mapping[str, str]
    mfa: Literal["OFF", "OPTIONAL", "ON"] = "OPTIONAL"
    """Cognito MFA mode; any mode but OFF offers TOTP authenticator apps."""
    deletion_protection: bool = False
    """Cognito refuses to delete the pool, and Pulumi `protect` refuses to replace or destroy
    it; prod sets it, since the pool is its users' accounts."""
    threat_protection: bool = False
    """Plus tier with threat protection ENFORCED (risk-based blocking, compromised
    credentials). Off: Essentials tier, which AWS requires for threat protection to be off."""


class Identity(pulumi.ComponentResource):
    """A Cognito user pool (email sign-in, verified email, strong passwords, TOTP MFA),
    a public app client for the mobile and web apps, and the farmers and investors groups.

    The client has no secret (a secret cannot be kept in an app), signs in by SRP so the
    password never leaves the device, and does not reveal whether a user exists.
    """

    user_pool_id: pulumi.Output[str]
    user_pool_arn: pulumi.Output[str]
    client_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: IdentityArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("reevo:edge:Identity", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        mfa_on = args.mfa != "OFF"

        pool = aws.cognito.UserPool(
            name,
            username_attributes=["email"],
            auto_verified_attributes=["email"],
            # A changed email stays unverified, and the old one in use, until it is confirmed.
            user_attribute_update_settings=aws.cognito.UserPoolUserAttributeUpdateSettingsArgs(
                attributes_require_verification_before_updates=["email"],
            ),
            username_configuration=aws.cognito.UserPoolUsernameConfigurationArgs(
                case_sensitive=False,
            ),
            password_policy=aws.cognito.UserPoolPasswordPolicyArgs(
                minimum_length=12,
                require_lowercase=True,
                require_uppercase=True,
                require_numbers=True,
                require_symbols=True,
                temporary_password_validity_days=3,
            ),
            mfa_configuration=args.mfa,
            # With MFA OFF and no SMS, the provider wants this block absent, not disabled.
            software_token_mfa_configuration=(
                aws.cognito.UserPoolSoftwareTokenMfaConfigurationArgs(enabled=True)
                if mfa_on
                else None
            ),
            account_recovery_setting=aws.cognito.UserPoolAccountRecoverySettingArgs(
                recovery_mechanisms=[
                    aws.cognito.UserPoolAccountRecoverySettingRecoveryMechanismArgs(
                        name="verified_email",
                        priority=1,
                    )
                ],
            ),
            admin_create_user_config=aws.cognito.UserPoolAdminCreateUserConfigArgs(
                allow_admin_create_user_only=False,
            ),
            deletion_protection="ACTIVE" if args.deletion_protection else "INACTIVE",
            user_pool_tier="PLUS" if args.threat_protection else "ESSENTIALS",
            user_pool_add_ons=(
                aws.cognito.UserPoolUserPoolAddOnsArgs(advanced_security_mode="ENFORCED")
                if args.threat_protection
                else None
            ),
            tags=tags(args.tags, name),
            opts=pulumi.ResourceOptions(parent=self, protect=args.deletion_protection),
        )

        client = aws.cognito.UserPoolClient(
            child_name(name, "app"),
            user_pool_id=pool.id,
            generate_secret=False,
            explicit_auth_flows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            prevent_user_existence_errors="ENABLED",
            enable_token_revocation=True,
            access_token_validity=60,
            id_token_validity=60,
            refresh_token_validity=30,
            token_validity_units=aws.cognito.UserPoolClientTokenValidityUnitsArgs(
                access_token="minutes",
                id_token="minutes",
                refresh_token="days",
            ),
            opts=child,
        )

        for group, description in GROUPS.items():
            aws.cognito.UserGroup(
                child_name(name, group),
                user_pool_id=pool.id,
                name=group,
                description=description,
                opts=child,
            )

        self.user_pool_id = pool.id
        self.user_pool_arn = pool.arn
        self.client_id = client.id
        self.register_outputs(
            {
                "user_pool_id": self.user_pool_id,
                "user_pool_arn": self.user_pool_arn,
                "client_id": self.client_id,
            }
        )
