"""One of the platform's services: its image repository and its Kubernetes objects."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
from pulumi_kubernetes.apps.v1 import (
    DeploymentSpecArgs,
    DeploymentStrategyArgs,
    RollingUpdateDeploymentArgs,
)
from pulumi_kubernetes.autoscaling.v2 import (
    CrossVersionObjectReferenceArgs,
    HorizontalPodAutoscalerSpecArgs,
    MetricSpecArgs,
    MetricTargetArgs,
    ResourceMetricSourceArgs,
)
from pulumi_kubernetes.core.v1 import (
    PodTemplateSpecArgs,
    ServicePortArgs,
    ServiceSpecArgs,
)
from pulumi_kubernetes.meta.v1 import LabelSelectorArgs, ObjectMetaArgs
from pulumi_kubernetes.networking.v1 import (
    HTTPIngressPathArgs,
    HTTPIngressRuleValueArgs,
    IngressBackendArgs,
    IngressRuleArgs,
    IngressServiceBackendArgs,
    IngressSpecArgs,
    ServiceBackendPortArgs,
)
from pulumi_kubernetes.policy.v1 import PodDisruptionBudgetSpecArgs

from reevo_infra import kube_specs
from reevo_infra.naming import child_name, tags

SERVICE_PORT = 80

# Keep the last 100 images (rollbacks) and drop untagged layers from failed pushes.
_LIFECYCLE = json.dumps(
    {
        "rules": [
            {
                "rulePriority": 1,
                "description": "expire untagged images after 14 days",
                "selection": {
                    "tagStatus": "untagged",
                    "countType": "sinceImagePushed",
                    "countUnit": "days",
                    "countNumber": 14,
                },
                "action": {"type": "expire"},
            },
            {
                "rulePriority": 2,
                "description": "keep the newest 100 images",
                "selection": {
                    "tagStatus": "any",
                    "countType": "imageCountMoreThan",
                    "countNumber": 100,
                },
                "action": {"type": "expire"},
            },
        ]
    },
    sort_keys=True,
)


@dataclass(frozen=True)
class WorkloadArgs:
    """Inputs of the `Workload` component: one service from stack config, and where it runs."""

    kube_provider: k8s.Provider
    namespace: pulumi.Input[str]
    ingress_class: pulumi.Input[str]
    image_key_arn: pulumi.Input[str]
    """Customer-managed KMS key that encrypts the ECR repository (RNF-S-01)."""
    service: str
    image_tag: str
    port: int
    cpu: str
    memory: str
    min_replicas: int
    max_replicas: int
    cpu_target_percent: int
    health_path: str
    ready_path: str
    tags: Mapping[str, str]
    internet_egress: bool = False
    """Label the pods so the namespace's policy lets them send HTTPS to any address."""
    database_host: pulumi.Input[str] | None = None
    """PostgreSQL endpoint; None (default) leaves the service without database settings."""
    database_port: pulumi.Input[int] = 5432
    database_secret: pulumi.Input[str] | None = None
    """Kubernetes Secret (keys `username`, `password`) holding the database login."""
    cache_host: pulumi.Input[str] | None = None
    """Redis primary endpoint; None (default) leaves the service without cache settings."""
    cache_port: pulumi.Input[int] = 6379
    cache_secret: pulumi.Input[str] | None = None
    """Kubernetes Secret (key `auth-token`) holding the Redis AUTH token."""


class Workload(pulumi.ComponentResource):
    """An ECR repository plus a Deployment, Service, HPA, PDB, Ingress and ConfigMap.

    The repository scans on push, refuses tag overwrites and is encrypted with the data
    key. The pods run as non-root on a read-only root filesystem with every capability
    dropped and the runtime's seccomp profile, are probed for startup, liveness and
    readiness, and spread over zones; only a service that opts in carries the label that
    lets its pods send HTTPS to the internet. Connection settings reach them through a
    ConfigMap and credentials only as references to Secrets. The Kubernetes objects are
    plain upstream kinds with no cloud-specific fields, so they run on any conformant cluster.
    """

    repository_url: pulumi.Output[str]
    deployment_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: WorkloadArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("reevo:platform:Workload", name, None, opts)
        if args.max_replicas <= args.min_replicas:
            raise ValueError(f"{args.service}: max_replicas must exceed min_replicas")
        self._name = name
        self._args = args
        self._kube = pulumi.ResourceOptions(parent=self, provider=args.kube_provider)
        self._labels = {
            "app.kubernetes.io/name": args.service,
            "app.kubernetes.io/part-of": "reevo",
        }

        repository = self._repository()
        config = self._config_map()
        deployment = self._deployment(repository, config)

        service = k8s.core.v1.Service(
            child_name(name, "svc"),
            metadata=self._meta(),
            spec=ServiceSpecArgs(
                type="ClusterIP",
                selector=self._labels,
                ports=[ServicePortArgs(name="http", port=SERVICE_PORT, target_port="http")],
            ),
            opts=self._kube,
        )

        k8s.autoscaling.v2.HorizontalPodAutoscaler(
            child_name(name, "hpa"),
            metadata=self._meta(),
            spec=HorizontalPodAutoscalerSpecArgs(
                scale_target_ref=CrossVersionObjectReferenceArgs(
                    api_version="apps/v1",
                    kind="Deployment",
                    name=deployment.metadata.name,
                ),
                min_replicas=args.min_replicas,
                max_replicas=args.max_replicas,
                metrics=[
                    MetricSpecArgs(
                        type="Resource",
                        resource=ResourceMetricSourceArgs(
                            name="cpu",
                            target=MetricTargetArgs(
                                type="Utilization",
                                average_utilization=args.cpu_target_percent,
                            ),
                        ),
                    )
                ],
            ),
            opts=self._kube,
        )

        k8s.policy.v1.PodDisruptionBudget(
            child_name(name, "pdb"),
            metadata=self._meta(),
            spec=PodDisruptionBudgetSpecArgs(
                # One pod at a time: drains proceed even at one replica (dev), and prod keeps
                # at least one serving. Crash-looping pods never block a node drain.
                max_unavailable=1,
                selector=LabelSelectorArgs(match_labels=self._labels),
                unhealthy_pod_eviction_policy="AlwaysAllow",
            ),
            opts=self._kube,
        )

        k8s.networking.v1.Ingress(
            child_name(name, "ingress"),
            metadata=self._meta(),
            spec=IngressSpecArgs(
                ingress_class_name=args.ingress_class,
                rules=[
                    IngressRuleArgs(
                        http=HTTPIngressRuleValueArgs(
                            paths=[
                                HTTPIngressPathArgs(
                                    path=f"/{args.service}",
                                    path_type="Prefix",
                                    backend=IngressBackendArgs(
                                        service=IngressServiceBackendArgs(
                                            name=service.metadata.name,
                                            port=ServiceBackendPortArgs(name="http"),
                                        )
                                    ),
                                ),
                            ]
                        )
                    )
                ],
            ),
            opts=self._kube,
        )

        self.repository_url = repository.repository_url
        self.deployment_name = deployment.metadata.name
        self.register_outputs(
            {
                "repository_url": self.repository_url,
                "deployment_name": self.deployment_name,
            }
        )

    def _pod_labels(self) -> dict[str, str]:
        # Only on the pods: the selectors stay on the identity labels, so turning egress on
        # or off rolls the pods instead of replacing the Deployment.
        if self._args.internet_egress:
            return {**self._labels, **kube_specs.INTERNET_EGRESS}
        return dict(self._labels)

    def _meta(self, suffix: str = "") -> ObjectMetaArgs:
        return ObjectMetaArgs(
            name=f"{self._args.service}{suffix}",
            namespace=self._args.namespace,
            labels=self._labels,
        )

    def _repository(self) -> aws.ecr.Repository:
        args = self._args
        repo_name = child_name(self._name, "repo")
        child = pulumi.ResourceOptions(parent=self)
        repository = aws.ecr.Repository(
            repo_name,
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(
                scan_on_push=True,
            ),
            encryption_configurations=[
                aws.ecr.RepositoryEncryptionConfigurationArgs(
                    encryption_type="KMS",
                    kms_key=args.image_key_arn,
                )
            ],
            tags=tags(args.tags, repo_name, Service=args.service),
            opts=child,
        )
        aws.ecr.LifecyclePolicy(
            child_name(repo_name, "lifecycle"),
            repository=repository.name,
            policy=_LIFECYCLE,
            opts=child,
        )
        return repository

    def _config_map(self) -> k8s.core.v1.ConfigMap:
        args = self._args
        data: dict[str, pulumi.Input[str]] = {
            "SERVICE_NAME": args.service,
            "PORT": str(args.port),
        }
        if args.database_host is not None:
            data["DATABASE_HOST"] = args.database_host
            data["DATABASE_PORT"] = pulumi.Output.from_input(args.database_port).apply(str)
            # The database enforces TLS; the client must not try plain text first.
            data["DATABASE_SSLMODE"] = "require"
        if args.cache_host is not None:
            data["REDIS_HOST"] = args.cache_host
            data["REDIS_PORT"] = pulumi.Output.from_input(args.cache_port).apply(str)
            data["REDIS_TLS"] = "true"
        return k8s.core.v1.ConfigMap(
            child_name(self._name, "config"),
            metadata=self._meta("-config"),
            data=data,
            opts=self._kube,
        )

    def _secret_refs(self) -> list[tuple[str, pulumi.Input[str], str]]:
        args = self._args
        refs: list[tuple[str, pulumi.Input[str], str]] = []
        if args.database_host is not None and args.database_secret is not None:
            refs += [
                ("DATABASE_USER", args.database_secret, "username"),
                ("DATABASE_PASSWORD", args.database_secret, "password"),
            ]
        if args.cache_host is not None and args.cache_secret is not None:
            refs.append(("REDIS_AUTH_TOKEN", args.cache_secret, "auth-token"))
        return refs

    def _deployment(
        self, repository: aws.ecr.Repository, config: k8s.core.v1.ConfigMap
    ) -> k8s.apps.v1.Deployment:
        args = self._args
        container = kube_specs.ContainerSpec(
            name=args.service,
            image=pulumi.Output.concat(repository.repository_url, ":", args.image_tag),
            port=args.port,
            cpu=args.cpu,
            memory=args.memory,
            health_path=args.health_path,
            ready_path=args.ready_path,
            config_map=config.metadata.name,
            secret_refs=self._secret_refs(),
        )
        return k8s.apps.v1.Deployment(
            child_name(self._name, "deploy"),
            metadata=self._meta(),
            spec=DeploymentSpecArgs(
                replicas=args.min_replicas,
                selector=LabelSelectorArgs(match_labels=self._labels),
                strategy=DeploymentStrategyArgs(
                    type="RollingUpdate",
                    rolling_update=RollingUpdateDeploymentArgs(max_surge=1, max_unavailable=0),
                ),
                template=PodTemplateSpecArgs(
                    metadata=ObjectMetaArgs(labels=self._pod_labels()),
                    spec=kube_specs.hardened_pod(container, self._labels),
                ),
            ),
            # The HPA owns the replica count once the Deployment exists; re-applying the
            # initial count on every update would shrink a scaled-out service.
            opts=pulumi.ResourceOptions.merge(
                self._kube, pulumi.ResourceOptions(ignore_changes=["spec.replicas"])
            ),
        )
