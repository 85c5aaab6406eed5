"""The Helm charts: lint, render, validate against Kubernetes' API schemas, offline.

Every chart is rendered with its default values and its production example, and each
manifest is checked against the schemas `kubernetes-validate` ships for one current
Kubernetes version (strict: unknown fields fail). Strimzi's KafkaTopic is a custom
resource those schemas lack; it is checked against the fields Strimzi requires.
Then what the charts promise is checked on the rendered objects.

helm comes from `make helm` (built once into .cache/helm by `make test`); without it
these tests are skipped and say so.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

HELM_DIR = Path(__file__).resolve().parents[1]
REPO = HELM_DIR.parents[1]
KUBERNETES_VERSION = "1.37"
SERVICES = ["identity", "content", "assessment", "ai-notes", "learning-records"]
CHARTS = [*SERVICES, "gateway"]
VALUES = ["values.yaml", "values-production.yaml"]
PREFIX = {"identity": "IDENTITY_", "content": "CONTENT_", "assessment": "ASSESSMENT_"}
PREFIX["ai-notes"] = "AI_NOTES_"
PREFIX["learning-records"] = "LEARNING_RECORDS_"


def _helm() -> str | None:
    candidates = [
        os.environ.get("EDVENT_HELM"),
        str(REPO / ".cache" / "helm" / "v3.22.0" / "helm"),
        shutil.which("helm"),
    ]
    return next((c for c in candidates if c and Path(c).is_file()), None)


HELM = _helm()
pytestmark = pytest.mark.skipif(
    HELM is None,
    reason="helm is not installed: `make test` builds it (`make helm`, into .cache/helm)",
)


def helm(*args: str) -> subprocess.CompletedProcess[str]:
    assert HELM is not None
    return subprocess.run([HELM, *args], capture_output=True, text=True, check=False, timeout=120)


@cache
def _render_cached(chart: str, values: str, sets: tuple[str, ...], extra: Path | None) -> str:
    result = helm(
        "template",
        chart,
        str(HELM_DIR / chart),
        "--namespace",
        "edvent",
        "-f",
        str(HELM_DIR / chart / values),
        *(["-f", str(extra)] if extra else []),
        *(arg for s in sets for arg in ("--set", s)),
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def render(
    chart: str, values: str = "values.yaml", *sets: str, values_file: Path | None = None
) -> list[dict[str, Any]]:
    text = _render_cached(chart, values, tuple(sets), values_file)
    return [doc for doc in yaml.safe_load_all(text) if doc]


def one(docs: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    found = [
        d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)
    ]
    assert len(found) == 1, f"{kind} {name or ''}: {len(found)} rendered"
    return found[0]


def hooks(doc: dict[str, Any]) -> set[str]:
    return set(doc["metadata"].get("annotations", {}).get("helm.sh/hook", "").split(",")) - {""}


# --- lint, render, validate -----------------------------------------------------------


@pytest.mark.parametrize("values", VALUES)
@pytest.mark.parametrize("chart", CHARTS)
def test_helm_lint_passes(chart: str, values: str) -> None:
    result = helm("lint", "--strict", str(HELM_DIR / chart), "-f", str(HELM_DIR / chart / values))
    assert result.returncode == 0, result.stdout + result.stderr


def _check_kafka_topic(doc: dict[str, Any]) -> None:
    # Strimzi's required fields (KafkaTopic CRD, v1): the cluster label and the spec.
    assert doc["apiVersion"] in ("kafka.strimzi.io/v1", "kafka.strimzi.io/v1beta2")
    assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", doc["metadata"]["name"])
    assert len(doc["metadata"]["name"]) <= 63
    assert doc["metadata"]["labels"]["strimzi.io/cluster"]
    spec = doc["spec"]
    assert set(spec) <= {"topicName", "partitions", "replicas", "config"}, spec
    assert isinstance(spec["partitions"], int) and spec["partitions"] >= 1
    assert isinstance(spec["replicas"], int) and spec["replicas"] >= 1
    assert all(isinstance(v, str) for v in spec.get("config", {}).values())


def _check_kafka_user(doc: dict[str, Any]) -> None:
    # Strimzi's KafkaUser CRD: SCRAM with a password from a Secret, simple ACLs.
    assert doc["apiVersion"] in ("kafka.strimzi.io/v1", "kafka.strimzi.io/v1beta2")
    assert doc["metadata"]["labels"]["strimzi.io/cluster"]
    spec = doc["spec"]
    assert set(spec) <= {"authentication", "authorization", "quotas", "template"}, spec
    assert spec["authentication"]["type"] == "scram-sha-512"
    assert set(spec["authentication"]["password"]["valueFrom"]["secretKeyRef"]) == {"name", "key"}
    assert spec["authorization"]["type"] == "simple"
    operations = {"Read", "Write", "Create", "Delete", "Alter", "Describe", "All"}
    operations |= {"IdempotentWrite", "ClusterAction", "DescribeConfigs", "AlterConfigs"}
    for acl in spec["authorization"]["acls"]:
        assert acl["resource"]["type"] in ("topic", "group", "cluster", "transactionalId")
        assert acl["resource"]["patternType"] in ("literal", "prefix")
        assert set(acl["operations"]) <= operations


@pytest.mark.parametrize("values", VALUES)
@pytest.mark.parametrize("chart", CHARTS)
def test_every_rendered_manifest_is_valid_for_kubernetes(chart: str, values: str) -> None:
    docs = render(chart, values)
    assert docs
    for doc in docs:
        if doc["kind"] == "KafkaTopic":
            _check_kafka_topic(doc)
            continue
        if doc["kind"] == "KafkaUser":
            _check_kafka_user(doc)
            continue
        try:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = ".".join(str(p) for p in exc.path)
            pytest.fail(f"{doc['kind']} {doc['metadata']['name']}: {path}: {exc.message}")


def test_the_validator_rejects_a_broken_manifest() -> None:
    """Guards the test above: a misspelt field must fail validation."""
    deployment = one(render("identity"), "Deployment")
    broken = json.loads(json.dumps(deployment))
    broken["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGett"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


# --- what a service chart promises ----------------------------------------------------


@pytest.mark.parametrize("chart", SERVICES)
def test_a_service_deployment_probes_shuts_down_gracefully_and_runs_locked_down(
    chart: str,
) -> None:
    docs = render(chart)
    deployment = one(docs, "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["args"][:2] == [f"edvent-{chart}", "serve"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    # uvicorn's timeout_graceful_shutdown (20 s) after the preStop pause, plus the
    # consumers' and relay's stop.
    pre_stop = container["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert pod["terminationGracePeriodSeconds"] >= pre_stop + 20 + 10
    assert container["resources"]["requests"] and container["resources"]["limits"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert {"mountPath": "/tmp", "name": "tmp"} in container["volumeMounts"]
    assert {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}} in pod["volumes"]
    config, secret = one(docs, "ConfigMap", chart), one(docs, "Secret", chart)
    assert container["envFrom"] == [
        {"configMapRef": {"name": config["metadata"]["name"]}},
        {"secretRef": {"name": secret["metadata"]["name"]}},
    ]
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    assert one(docs, "PodDisruptionBudget")["spec"]["minAvailable"] == 1
    assert not [d for d in docs if d["kind"] == "HorizontalPodAutoscaler"]
    assert deployment["spec"]["replicas"] == 2


@pytest.mark.parametrize("chart", SERVICES)
def test_traces_go_to_the_collector_named_and_nowhere_without_one(chart: str) -> None:
    (container,) = one(render(chart), "Deployment")["spec"]["template"]["spec"]["containers"]
    assert not [e for e in container.get("env", []) if e["name"].startswith("OTEL_")]
    docs = render(
        chart,
        "values.yaml",
        "otel.endpoint=http://otel-collector.observability:4318",
        "otel.samplerArg=0.25",
        "env[0].name=OTEL_EXPORTER_OTLP_HEADERS",
        "env[0].value=x-tenant=edvent",
    )
    (container,) = one(docs, "Deployment")["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env == {
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://otel-collector.observability:4318",
        "OTEL_SERVICE_NAME": chart,
        "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
        "OTEL_TRACES_SAMPLER_ARG": "0.25",
        "OTEL_EXPORTER_OTLP_HEADERS": "x-tenant=edvent",
    }


@pytest.mark.parametrize("chart", SERVICES)
def test_the_migration_runs_as_a_pre_install_and_pre_upgrade_hook(chart: str) -> None:
    docs = render(chart)
    job = one(docs, "Job", f"{chart}-migrate")
    assert hooks(job) == {"pre-install", "pre-upgrade"}
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["args"] == [f"edvent-{chart}", "migrate"]
    # Hooks run before the release's own ConfigMap and Secret exist: the Job reads
    # hook copies created just before it (lower weight).
    refs = [next(iter(e.values()))["name"] for e in container["envFrom"]]
    for kind, name in zip(("ConfigMap", "Secret"), refs, strict=True):
        copy = one(docs, kind, name)
        assert hooks(copy) == {"pre-install", "pre-upgrade"}
        weight = int(copy["metadata"]["annotations"]["helm.sh/hook-weight"])
        assert weight < int(job["metadata"]["annotations"]["helm.sh/hook-weight"])
    assert one(docs, "ConfigMap", f"{chart}-hook")["data"] == one(docs, "ConfigMap", chart)["data"]


@pytest.mark.parametrize("chart", SERVICES)
def test_an_existing_secret_replaces_the_charts_own(chart: str) -> None:
    docs = render(chart, "values.yaml", "secrets.existingSecret=vault-synced")
    # Only the migrator's, which has a switch of its own (migration.existingSecret).
    assert [d["metadata"]["name"] for d in docs if d["kind"] == "Secret"] == [f"{chart}-migrator"]
    for workload in (one(docs, "Deployment"), one(docs, "Job", f"{chart}-migrate")):
        (container,) = workload["spec"]["template"]["spec"]["containers"]
        assert {"secretRef": {"name": "vault-synced"}} in container["envFrom"]


def test_a_new_setting_is_a_values_line_not_a_template_change(tmp_path: Path) -> None:
    extra = tmp_path / "extra.yaml"
    # Numbers as a values file gives them (floats to Helm) keep their digits.
    extra.write_text("config:\n  AI_NOTES_MAX_X: 2000000\n  AI_NOTES_RATIO: 0.5\n")
    docs = render(
        "ai-notes",
        "values.yaml",
        "config.AI_NOTES_OPENAI_MODEL=gpt-x",
        "secrets.values.AI_NOTES_OPENAI_API_KEY=sk-test",
        values_file=extra,
    )
    data = one(docs, "ConfigMap", "ai-notes")["data"]
    assert data["AI_NOTES_OPENAI_MODEL"] == "gpt-x"
    assert (data["AI_NOTES_MAX_X"], data["AI_NOTES_RATIO"]) == ("2000000", "0.5")
    assert one(docs, "Secret", "ai-notes")["stringData"]["AI_NOTES_OPENAI_API_KEY"] == "sk-test"


def test_the_production_example_autoscales_and_reads_an_existing_secret() -> None:
    docs = render("content", "values-production.yaml")
    hpa = one(docs, "HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"]["name"] == "content"
    assert "replicas" not in one(docs, "Deployment")["spec"]  # the HPA owns it
    assert not [d for d in docs if d["kind"] == "Secret"]
    (container,) = one(docs, "Job", "content-migrate")["spec"]["template"]["spec"]["containers"]
    [url] = [e for e in container["env"] if e["name"] == "CONTENT_DATABASE_URL"]
    assert url["valueFrom"]["secretKeyRef"]["name"] == "content-migrator"


@pytest.mark.parametrize("chart", SERVICES)
def test_only_the_gateway_reaches_a_service_and_it_reaches_only_its_dependencies(
    chart: str,
) -> None:
    policy = one(render(chart), "NetworkPolicy")["spec"]
    (ingress,) = policy["ingress"]
    names = []
    for peer in ingress["from"]:
        selector = peer["podSelector"]
        names += selector.get("matchLabels", {}).values()
        for expression in selector.get("matchExpressions", []):
            names += expression["values"]
    # identity also serves the JWKS to the services that verify its tokens;
    # learning-records has no public API: only Prometheus reaches it.
    verifiers = {"content", "assessment", "ai-notes"} if chart == "identity" else set()
    expected = {"prometheus"} if chart == "learning-records" else {"gateway"} | verifiers
    assert set(names) == expected
    ports = {p["port"] for rule in policy["egress"] for p in rule["ports"]}
    assert {53, 5432, 9092} <= ports
    # identity also reaches its mail server (SMTP submission, 587 or 465).
    smtp = {587, 465} if chart == "identity" else set()
    assert ports <= {53, 5432, 9092, 443, 8000} | smtp
    # S3, or the LRS.
    assert (443 in ports) == (chart in ("content", "ai-notes", "learning-records"))
    assert smtp <= ports


# --- Kafka topics ------------------------------------------------------------------


def test_topics_are_strimzi_kafka_topics_by_default_with_dead_letter_topics() -> None:
    topics = {d["spec"]["topicName"]: d for d in render("content") if d["kind"] == "KafkaTopic"}
    assert set(topics) == {
        "content.courses",
        "content.lessons",
        "content.user-exports",
        "identity.users.dlq.content",
        "identity.users.retry.content",
    }
    assert topics["content.lessons"]["metadata"]["name"] == "content-lessons"
    # Sealed export parts: unreadable once identity drops the key, so kept a day.
    assert topics["content.user-exports"]["spec"]["config"]["retention.ms"] == "86400000"
    assert topics["identity.users.dlq.content"]["spec"]["config"]["max.message.bytes"] == str(
        1114124
    )
    annotations = topics["content.courses"]["metadata"]["annotations"]
    assert annotations["helm.sh/resource-policy"] == "keep"


def test_the_user_keys_topic_is_compacted_as_the_library_says() -> None:
    from edvent_events.topics import COMPACTED_TOPIC_CONFIG, IDENTITY_USER_KEYS

    for values in ("kafka.topicsBy=strimzi", "kafka.topicsBy=job"):
        docs = render("identity", "values.yaml", values)
        if values.endswith("strimzi"):
            topics = {d["spec"]["topicName"]: d["spec"] for d in docs if d["kind"] == "KafkaTopic"}
        else:
            (container,) = one(docs, "Job", "identity-topics")["spec"]["template"]["spec"][
                "containers"
            ]
            env = {e["name"]: e["value"] for e in container["env"]}
            topics = {t["name"]: t for t in json.loads(env["EDVENT_TOPICS"])}
        config = topics[IDENTITY_USER_KEYS]["config"]
        assert {k: str(v) for k, v in config.items()}.items() >= COMPACTED_TOPIC_CONFIG.items()


def test_dead_letter_topics_fit_the_consumer_runner() -> None:
    from edvent_events.consumer import DLQ_MAX_MESSAGE_BYTES

    for chart in SERVICES:
        values = yaml.safe_load((HELM_DIR / chart / "values.yaml").read_text())
        assert values["kafka"]["dlqMaxMessageBytes"] == DLQ_MAX_MESSAGE_BYTES


def test_topics_can_be_created_by_a_hook_job_instead() -> None:
    docs = render("ai-notes", "values.yaml", "kafka.topicsBy=job")
    assert not [d for d in docs if d["kind"] == "KafkaTopic"]
    job = one(docs, "Job", "ai-notes-topics")
    assert hooks(job) == {"pre-install", "pre-upgrade"}
    (container,) = job["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e["value"] for e in container["env"]}
    topics = {t["name"]: t for t in json.loads(env["EDVENT_TOPICS"])}
    assert "ai-notes.notes" in topics and "content.lessons.dlq.ai-notes" in topics
    assert topics["ai-notes.notes"]["partitions"] == 6
    # It connects as the service, with the service's settings (prefix + KAFKA_...).
    assert "'AI_NOTES_'" in container["args"][2]
    assert "'KAFKA_PASSWORD'" in container["args"][2]
    # The script is real Python that imports what exists.
    compile(container["args"][2], "topics-job", "exec")
    from edvent_events.admin import ensure_topics  # noqa: F401 - the script's import

    none = render("ai-notes", "values.yaml", "kafka.topicsBy=none")
    assert not [d for d in none if d["kind"] == "KafkaTopic" or "topics" in d["metadata"]["name"]]


# --- the charts match the code ----------------------------------------------------------


def _settings_fields(chart: str) -> set[str]:
    module = __import__(f"edvent_{chart.replace('-', '_')}.config", fromlist=["Settings"])
    return set(module.Settings.model_fields)


@pytest.mark.parametrize("chart", SERVICES)
def test_every_setting_a_chart_sets_is_one_its_service_reads(chart: str) -> None:
    fields = _settings_fields(chart)
    keys: set[str] = set()
    for values in VALUES:
        docs = render(chart, values)
        keys |= set(one(docs, "ConfigMap", chart)["data"])
        # The migrator's Secret is the migrate Job's alone (MIGRATOR_DATABASE_URL).
        secrets = [d for d in docs if d["kind"] == "Secret" and d["metadata"]["name"] == chart]
        keys |= {k for d in secrets for k in d["stringData"]}
        keys |= {
            line.split(":")[0].strip().lstrip("# ")
            for line in (HELM_DIR / chart / values).read_text().splitlines()
            if re.match(rf"\s*(# )?{PREFIX[chart]}[A-Z0-9_]+:", line)
        }
    settings = {k.removeprefix(PREFIX[chart]).lower() for k in keys}
    assert all(k.startswith(PREFIX[chart]) for k in keys), keys
    assert settings <= fields, settings - fields


@pytest.mark.parametrize("chart", SERVICES)
def test_the_chart_runs_the_services_own_command(chart: str) -> None:
    project = tomllib.loads((REPO / "services" / chart / "pyproject.toml").read_text())
    assert f"edvent-{chart}" in project["project"]["scripts"]
    values = yaml.safe_load((HELM_DIR / chart / "values.yaml").read_text())
    assert values["command"] == f"edvent-{chart}"
    assert values["containerPort"] == 8000  # what services/<name>/Dockerfile exposes
    dockerfile = (REPO / "services" / chart / "Dockerfile").read_text()
    assert "EXPOSE 8000" in dockerfile
    assert re.search(r"useradd [^\n]*--uid 10001", dockerfile)
    assert values["securityContext"]["runAsUser"] == 10001


# --- the gateway -----------------------------------------------------------------------


def test_the_gateway_serves_the_shared_template_with_every_variable_set() -> None:
    docs = render("gateway")
    template = (REPO / "deploy" / "gateway" / "edvent.conf.template").read_text()
    config = one(docs, "ConfigMap")
    assert config["data"]["edvent.conf.template"].strip() == template.strip()
    (container,) = one(docs, "Deployment")["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert set(re.findall(r"\$\{([A-Z0-9_]+)\}", template)) <= set(env)
    assert env["IDENTITY_UPSTREAM"] == "identity:8000"
    assert container["readinessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert {"/etc/nginx/templates", "/etc/nginx/conf.d", "/tmp"} <= mounts
    egress = one(docs, "NetworkPolicy")["spec"]["egress"]
    assert {p["port"] for rule in egress for p in rule["ports"]} == {53, 8000}
    production = render("gateway", "values-production.yaml")
    assert one(production, "Ingress")["spec"]["rules"][0]["host"] == "learn.example.com"


def _gateway_config(*sets: str) -> str:
    """The nginx configuration the gateway pod runs: the chart's ConfigMap template with
    the Deployment's environment substituted, as the image's envsubst does at start."""
    docs = render("gateway", "values.yaml", *sets)
    template = one(docs, "ConfigMap")["data"]["edvent.conf.template"]
    (container,) = one(docs, "Deployment")["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e["value"] for e in container["env"]}
    return re.sub(r"\$\{([A-Z0-9_]+)\}", lambda m: env[m.group(1)], template)


def _blocks_with_headers(config: str) -> dict[str, set[str]]:
    """The header names each `server`/`location` block adds itself (nginx inherits
    add_header lines only into a block that has none of its own)."""
    found: dict[str, set[str]] = {}
    stack: list[str] = []
    for raw in config.splitlines():
        line = raw.split("#", 1)[0].strip()
        if line.endswith("{"):
            stack.append(line[:-1].strip())
        elif line == "}" or line.endswith("}"):
            if line == "}":
                stack.pop()
        elif line.startswith("add_header ") and stack:
            found.setdefault(stack[-1], set()).add(line.split()[1].lower())
    return found


HARDENING = {"content-security-policy", "x-content-type-options", "referrer-policy"}


def test_the_helm_gateway_sends_the_browser_hardening_headers_on_every_answer() -> None:
    config = _gateway_config()
    blocks = _blocks_with_headers(config)
    assert HARDENING | {"content-disposition"} <= blocks["server"]
    # Every location that adds a header of its own repeats the hardening ones.
    for block, names in blocks.items():
        assert names >= HARDENING, f"{block} drops {HARDENING - names}"
    assert "add_header Content-Security-Policy $edvent_csp always;" in config
    default = re.search(r'^\s*default "([^"]*)";', config.split("$edvent_csp {", 1)[1], re.M)
    assert default is not None
    directives = {d.split()[0]: d.split()[1:] for d in default.group(1).split(";") if d.strip()}
    assert directives["img-src"] == ["'self'", "data:"]
    assert directives["script-src"] == ["'self'"]
    markdown = re.search(r'"~\*\^text/markdown" "([^"]*)";', config)
    assert markdown is not None and "sandbox" in markdown.group(1).split("; ")
    assert re.search(r'"~\*\^text/markdown"\s+"inline";', config)


def test_the_helm_gateway_takes_extra_image_origins_and_refuses_anything_else() -> None:
    config = _gateway_config("contentSecurityPolicy.imgSrcExtra={https://img.example.com}")
    assert "img-src 'self' data: https://img.example.com;" in config
    result = helm(
        "template",
        "gateway",
        str(HELM_DIR / "gateway"),
        "--set",
        "contentSecurityPolicy.imgSrcExtra={https://x.example; script-src *}",
    )
    assert result.returncode != 0
    assert "is not an origin" in result.stderr


def test_the_gateway_believes_forwarded_for_only_from_the_trusted_proxies() -> None:
    def real_ip(docs: list[dict[str, Any]]) -> str:
        (container,) = one(docs, "Deployment")["spec"]["template"]["spec"]["containers"]
        return next(e["value"] for e in container["env"] if e["name"] == "GATEWAY_REAL_IP")

    assert real_ip(render("gateway")) == ""
    assert real_ip(render("gateway", "values.yaml", "trustedProxies={10.1.0.0/16,fd00::/8}")) == (
        "set_real_ip_from 10.1.0.0/16; set_real_ip_from fd00::/8; "
        "real_ip_header X-Forwarded-For; real_ip_recursive on;"
    )
    assert "set_real_ip_from 10.0.0.0/8;" in real_ip(render("gateway", "values-production.yaml"))


# --- who may do what: database roles and Kafka principals (issue 23) ---------------------


@pytest.mark.parametrize("chart", SERVICES)
def test_migrations_run_as_the_migrator_whose_secret_the_service_never_reads(chart: str) -> None:
    docs = render(chart)
    secret = one(docs, "Secret", f"{chart}-migrator")
    assert hooks(secret) == {"pre-install", "pre-upgrade"}
    assert "_migrator:" in secret["stringData"]["MIGRATOR_DATABASE_URL"]
    (job,) = one(docs, "Job", f"{chart}-migrate")["spec"]["template"]["spec"]["containers"]
    [url] = [e for e in job["env"] if e["name"] == f"{PREFIX[chart]}DATABASE_URL"]
    assert url["valueFrom"]["secretKeyRef"] == {
        "name": f"{chart}-migrator",
        "key": "MIGRATOR_DATABASE_URL",
    }
    assert f"{chart}-migrator" not in json.dumps(one(docs, "Deployment"))


@pytest.mark.parametrize("chart", SERVICES)
def test_the_service_reaches_kafka_over_tls_as_its_own_principal(chart: str) -> None:
    docs = render(chart)
    config = one(docs, "ConfigMap", chart)["data"]
    prefix = PREFIX[chart]
    assert config[f"{prefix}KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    assert config[f"{prefix}KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"
    assert config[f"{prefix}KAFKA_USERNAME"] == chart
    assert f"{prefix}KAFKA_PASSWORD" in one(docs, "Secret", chart)["stringData"]
    pod = one(docs, "Deployment")["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert {"name": "kafka-ca", "mountPath": "/etc/edvent/kafka-ca", "readOnly": True} in (
        container["volumeMounts"]
    )
    [volume] = [v for v in pod["volumes"] if v["name"] == "kafka-ca"]
    assert volume["secret"]["secretName"] == "edvent-cluster-ca-cert"
    assert config[f"{prefix}KAFKA_SSL_CAFILE"] == "/etc/edvent/kafka-ca/ca.crt"


def _acl_set(acls: list[dict[str, Any]]) -> set[tuple[str, str, str, str]]:
    return {
        (a["resource"]["type"], a["resource"]["name"], a["resource"]["patternType"], op.upper())
        for a in acls
        for op in a["operations"]
    }


@pytest.mark.parametrize("chart", SERVICES)
def test_the_kafka_user_has_the_acls_the_local_stack_grants(chart: str) -> None:
    from edvent_events import acls

    user = one(render(chart), "KafkaUser")
    assert user["metadata"]["name"] == chart
    assert user["spec"]["authentication"]["type"] == "scram-sha-512"
    secret_ref = user["spec"]["authentication"]["password"]["valueFrom"]["secretKeyRef"]
    assert secret_ref == {"name": chart, "key": f"{PREFIX[chart]}KAFKA_PASSWORD"}
    kinds = {acls.TOPIC: "topic", acls.GROUP: "group"}
    patterns = {acls.LITERAL: "literal", acls.PREFIXED: "prefix"}
    operations = {acls.READ: "READ", acls.WRITE: "WRITE", acls.CREATE: "CREATE"}
    operations[acls.DESCRIBE] = "DESCRIBE"
    expected = {
        (kinds[a.resource_type], a.resource_name, patterns[a.pattern_type], operations[a.operation])
        for a in acls.service_acls(chart)
    }
    assert _acl_set(user["spec"]["authorization"]["acls"]) == expected


def test_without_strimzi_a_hook_job_sets_the_user_and_acls_as_the_admin() -> None:
    docs = render("content", "values.yaml", "kafka.usersBy=job")
    assert not [d for d in docs if d["kind"] == "KafkaUser"]
    job = one(docs, "Job", "content-kafka-user")
    assert hooks(job) == {"pre-install", "pre-upgrade"}
    weight = int(job["metadata"]["annotations"]["helm.sh/hook-weight"])
    assert weight < int(
        one(docs, "Job", "content-migrate")["metadata"]["annotations"]["helm.sh/hook-weight"]
    )
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["args"][0] == "edvent-events"
    assert container["args"][-3:] == ["acls", "--users", "content"]
    env = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in container["env"]}
    assert env["KAFKA_USERNAME"]["name"] == "edvent-kafka-admin"
    assert env["KAFKA_USER_CONTENT_PASSWORD"] == {
        "name": "content-hook",
        "key": "CONTENT_KAFKA_PASSWORD",
    }
    none = render("content", "values.yaml", "kafka.usersBy=none")
    assert not [
        d for d in none if d["kind"] == "KafkaUser" or "kafka-user" in d["metadata"]["name"]
    ]


# --- values.schema.json (tools/helm_values_schema.py) --------------------------------------


def test_every_chart_has_its_current_values_schema() -> None:
    tool = HELM_DIR.parents[1] / "tools" / "helm_values_schema.py"
    result = subprocess.run(
        [sys.executable, str(tool), "--check"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    for chart in CHARTS:
        assert (HELM_DIR / chart / "values.schema.json").exists()


@pytest.mark.parametrize(
    ("setting", "complaint"),
    [
        ("replicaCuont=2", "additional properties 'replicaCuont' not allowed"),
        ("replicaCount=two", "/replicaCount"),
    ],
)
def test_helm_refuses_values_the_schema_does_not_allow(setting: str, complaint: str) -> None:
    result = helm("lint", "--strict", str(HELM_DIR / "content"), "--set", setting)
    assert result.returncode != 0
    assert complaint in result.stdout + result.stderr
