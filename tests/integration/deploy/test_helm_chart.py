"""The Helm chart: lints strictly, renders with the default and a production-like values file into
manifests that Kubernetes' own schemas accept (offline, kubernetes-validate), with the probes,
shutdown budget, hook, secrets by reference and monitoring resources the deployment relies on."""

import json
import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from tests.integration.deploy.chart import VALUES_FILES, container, env, kinds, one, refusal, render
from tests.integration.deploy.tools import CHART, DEPLOY, REPO_ROOT, run

CRD_GROUP = "monitoring.coreos.com/"
KUBERNETES_VERSIONS = ("1.25.0", "1.30.0")  # the chart's kubeVersion floor, and the fetched kubectl's
# Named by docs/observability.md and read by the tracing setup the lead is wiring in: the chart may set them.
CONTRACT_VARIABLES = {"OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_SERVICE_NAME"}
CONTRACT_VARIABLES |= {"SLUICE_OTEL_PROPAGATE_UPSTREAM"}


def _app_variables() -> set[str]:
    names: set[str] = set(CONTRACT_VARIABLES)
    for path in (REPO_ROOT / "src").rglob("*.py"):
        names |= set(re.findall(r"[\"']((?:SLUICE|OTEL)_[A-Z0-9_]+)[\"']", path.read_text()))
    return names


@pytest.mark.parametrize("values_file", VALUES_FILES)
def test_helm_lint_strict(values_file: str) -> None:
    done = run("helm", "lint", "--strict", str(CHART), "-f", str(CHART / "ci" / values_file))
    assert "1 chart(s) linted, 0 chart(s) failed" in done.stdout


@pytest.mark.parametrize("values_file", VALUES_FILES)
@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_rendered_manifests_match_the_kubernetes_schemas(values_file: str, version: str) -> None:
    checked = 0
    for doc in render(values_file):
        if doc["apiVersion"].startswith(CRD_GROUP):
            continue  # the Prometheus Operator's: checked below
        # strict: a misspelt or misplaced field fails too, not only a wrong type.
        kubernetes_validate.validate(doc, version, strict=True)
        checked += 1
    assert checked >= 5


def test_the_schema_check_is_not_vacuous() -> None:
    deployment = one(render(), "Deployment")
    deployment["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["httpGett"] = {"path": "/healthz"}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSIONS[-1], strict=True)


@pytest.mark.parametrize("values_file", VALUES_FILES)
def test_no_two_resources_share_a_kind_and_name(values_file: str, tmp_path: Path) -> None:
    """kubectl's own loader (kustomize, offline) refuses a second resource with the same id."""
    (tmp_path / "rendered.yaml").write_text(yaml.dump_all(render(values_file), Dumper=yaml.CSafeDumper))
    (tmp_path / "kustomization.yaml").write_text("resources: [rendered.yaml]\n")
    assert "kind: Deployment" in run("kubectl", "kustomize", str(tmp_path)).stdout


def test_default_and_production_render_what_they_should() -> None:
    # The Secret twice: the release's, and the migration hook's copy.
    assert kinds(render()) == ["Deployment", "Job", "PodDisruptionBudget", "Secret", "Secret", "Service"]
    production = ["ConfigMap"] * 3 + ["Deployment", "HorizontalPodAutoscaler", "Ingress", "Job"]
    production += ["PodDisruptionBudget", "PrometheusRule", "Service", "ServiceMonitor"]
    assert kinds(render("production-values.yaml")) == sorted(production)


def test_chart_defaults_alone_refuse_and_name_the_missing_secret() -> None:
    assert "secrets.databaseUrl (SLUICE_DATABASE_URL) is required" in refusal(None)


@pytest.mark.parametrize("values_file", VALUES_FILES)
def test_pods_have_probes_resources_and_a_shutdown_that_fits(values_file: str) -> None:
    docs = render(values_file)
    pod = one(docs, "Deployment")["spec"]["template"]["spec"]
    app = pod["containers"][0]
    assert app["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert app["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert app["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert app["resources"]["requests"]["cpu"] and app["resources"]["limits"]["memory"]
    assert "cpu" not in app["resources"]["limits"]
    assert app["securityContext"]["readOnlyRootFilesystem"] and pod["securityContext"]["runAsNonRoot"]
    sleep = app["lifecycle"]["preStop"]["exec"]["command"]
    assert sleep[0] == "sleep"
    variables = env(app)
    drain = int(variables["SLUICE_DRAIN_SECONDS"]["value"]) + int(variables["SLUICE_GRACEFUL_SECONDS"]["value"])
    # preStop, the drain, the streams' grace, then settling, leases, spend and the usage flush (25 s).
    assert pod["terminationGracePeriodSeconds"] >= int(sleep[1]) + drain + 25
    assert pod["enableServiceLinks"] is False and pod["automountServiceAccountToken"] is False


def test_a_grace_period_too_short_for_the_drain_is_refused() -> None:
    assert "terminationGracePeriodSeconds must be at least" in refusal(sluice__drainSeconds="30")


@pytest.mark.parametrize("values_file", VALUES_FILES)
def test_every_variable_the_chart_sets_is_one_the_app_reads(values_file: str) -> None:
    docs = render(values_file)
    known = _app_variables()
    for kind in ("Deployment", "Job"):
        names = set(env(container(docs, kind)))
        assert sorted(names - known) == [], kind


@pytest.mark.parametrize("values_file", VALUES_FILES)
def test_migration_runs_as_a_hook_before_install_and_upgrade(values_file: str) -> None:
    docs = render(values_file)
    job = one(docs, "Job", hook=True)
    notes = job["metadata"]["annotations"]
    assert notes["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert container(docs, "Job")["args"] == ["migrate"]
    assert "SLUICE_AUTO_MIGRATE" not in env(container(docs, "Job"))
    assert env(container(docs))["SLUICE_AUTO_MIGRATE"]["value"] == "0"
    # What the Job reads exists before it: hook copies of the chart's Secret and ConfigMap, first.
    for doc in docs:
        annotations = doc["metadata"].get("annotations", {})
        if doc is not job and "helm.sh/hook" in annotations:
            assert int(annotations["helm.sh/hook-weight"]) < int(notes["helm.sh/hook-weight"])
    secret_names = {e["valueFrom"]["secretKeyRef"]["name"] for e in container(docs, "Job")["env"] if "valueFrom" in e}
    secrets = [d for d in docs if d["kind"] == "Secret"]
    hook_secrets = {d["metadata"]["name"] for d in secrets if "helm.sh/hook" in d["metadata"].get("annotations", {})}
    ordinary = {d["metadata"]["name"] for d in secrets} - hook_secrets
    assert not secret_names & ordinary, "the hook runs before the release's own Secret exists"


def _secret_refs(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {name: e["valueFrom"]["secretKeyRef"] for name, e in env(container(docs)).items() if "valueFrom" in e}


def test_secrets_given_as_values_go_into_the_charts_secret() -> None:
    docs = render(secrets__stripeSecretKey="sk_test_1", secrets__stripeWebhookSecret="whsec_1")
    secret = one(docs, "Secret")
    given = {"SLUICE_DATABASE_URL", "SLUICE_KEY_PEPPER", "SLUICE_REDIS_URL", "SLUICE_UPSTREAM_API_KEY"}
    assert set(secret["data"]) == given | {"SLUICE_STRIPE_SECRET_KEY", "SLUICE_STRIPE_WEBHOOK_SECRET"}
    refs = _secret_refs(docs)
    assert {ref["name"] for ref in refs.values()} == {secret["metadata"]["name"]}
    assert set(refs) == set(secret["data"])  # nothing else: no moderation key, no OIDC secret


def test_secrets_from_an_existing_secret_required_ones_not_optional() -> None:
    docs = render(None, secrets__existingSecret="mine")
    assert "Secret" not in kinds(docs)
    refs = _secret_refs(docs)
    assert {ref["name"] for ref in refs.values()} == {"mine"}
    required = {"SLUICE_DATABASE_URL", "SLUICE_KEY_PEPPER", "SLUICE_UPSTREAM_API_KEY", "SLUICE_REDIS_URL"}
    assert {name for name, ref in refs.items() if not ref.get("optional")} == required
    assert all(ref["key"] == name for name, ref in refs.items())


def test_a_secret_key_ref_wins_per_setting() -> None:
    docs = render(secrets__secretKeyRefs__databaseUrl__name="pg-app", secrets__secretKeyRefs__databaseUrl__key="uri")
    assert _secret_refs(docs)["SLUICE_DATABASE_URL"] == {"name": "pg-app", "key": "uri"}
    assert "SLUICE_DATABASE_URL" not in one(docs, "Secret")["data"]


def test_one_replica_needs_no_redis_two_do() -> None:
    assert "SLUICE_REDIS_URL" not in env(container(render(secrets__redisUrl="", replicaCount="1")))
    assert "secrets.redisUrl (SLUICE_REDIS_URL) is required with more than one replica" in refusal(secrets__redisUrl="")


def test_sqlite_and_a_short_pepper_are_refused() -> None:
    assert "SQLite does not work in Kubernetes" in refusal(secrets__databaseUrl="sqlite+aiosqlite:///x.db")
    assert "at least 16 characters" in refusal(secrets__keyPepper="short")


def test_config_file_mounted_and_named() -> None:
    docs = render("production-values.yaml")
    app = container(docs)
    assert env(app)["SLUICE_CONFIG"]["value"] == "/etc/sluice/sluice.toml"
    assert {"name": "config", "mountPath": "/etc/sluice", "readOnly": True} in app["volumeMounts"]
    config = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].endswith("-config"))
    assert "[plans.pro]" in config["data"]["sluice.toml"]


def test_logs_tracing_and_metrics_settings_reach_the_pods() -> None:
    variables = env(container(render("production-values.yaml")))
    values = {name: e.get("value") for name, e in variables.items()}
    assert values["SLUICE_LOG_FORMAT"] == "json" and values["SLUICE_LOG_CONTENT"] == "0"
    assert values["OTEL_TRACES_EXPORTER"] == "otlp"
    assert values["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector.observability:4318"
    assert values["SLUICE_OTEL_PROPAGATE_UPSTREAM"] == "1" and values["SLUICE_METRICS_PORT"] == "9090"
    defaults = {name: e.get("value") for name, e in env(container(render())).items()}
    assert not [name for name in defaults if name.startswith("OTEL_")]  # tracing off: nothing set
    assert "SLUICE_METRICS_PORT" not in defaults


def test_metrics_on_the_app_port_or_their_own() -> None:
    default = render(serviceMonitor__enabled="true")
    assert one(default, "ServiceMonitor")["spec"]["endpoints"][0]["port"] == "http"
    assert [p["name"] for p in one(default, "Service")["spec"]["ports"]] == ["http"]
    docs = render("production-values.yaml")
    endpoint = one(docs, "ServiceMonitor")["spec"]["endpoints"][0]
    assert endpoint["port"] == "metrics" and endpoint["path"] == "/metrics"
    assert {"name": "metrics", "port": 9090, "targetPort": "metrics", "protocol": "TCP"} in one(docs, "Service")[
        "spec"
    ]["ports"]
    assert {"name": "metrics", "containerPort": 9090, "protocol": "TCP"} in container(docs)["ports"]
    assert "metrics.port must differ" in refusal(metrics__port="8080")


def test_service_monitor_selects_the_service_and_keeps_the_gateways_labels() -> None:
    docs = render("production-values.yaml")
    monitor, service = one(docs, "ServiceMonitor"), one(docs, "Service")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    selector = monitor["spec"]["selector"]["matchLabels"]
    assert selector.items() <= service["metadata"]["labels"].items()
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": ["sluice"]}
    assert monitor["spec"]["jobLabel"] == "app.kubernetes.io/name"
    assert service["metadata"]["labels"]["app.kubernetes.io/name"] == "sluice"  # so job="sluice"
    endpoint = monitor["spec"]["endpoints"][0]
    assert endpoint["honorLabels"] is True  # else the operator's endpoint label displaces the gateway's
    assert set(endpoint) <= {"port", "path", "scheme", "interval", "scrapeTimeout", "honorLabels", "relabelings"}
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"


def test_prometheus_rule_holds_the_rules_file() -> None:
    rule = one(render("production-values.yaml"), "PrometheusRule")
    assert rule["apiVersion"] == "monitoring.coreos.com/v1"
    source = yaml.safe_load((DEPLOY / "prometheus" / "sluice-rules.yaml").read_text())
    assert rule["spec"]["groups"] == source["groups"]
    for group in rule["spec"]["groups"]:
        assert set(group) <= {"name", "interval", "rules"} and group["rules"]
        for r in group["rules"]:
            assert set(r) <= {"alert", "record", "expr", "for", "labels", "annotations"} and r["expr"]
    assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"


def test_prometheus_rule_follows_a_renamed_job() -> None:
    rule = one(render("production-values.yaml", nameOverride="gateway"), "PrometheusRule")
    exprs = [r["expr"] for g in rule["spec"]["groups"] for r in g["rules"]]
    assert 'absent(up{job="gateway"})' in exprs and not [e for e in exprs if 'job="sluice"' in e]


def test_grafana_dashboards_configmap_for_the_sidecar() -> None:
    docs = render("production-values.yaml")
    boards = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].endswith("-dashboards"))
    assert boards["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert boards["metadata"]["namespace"] == "monitoring"
    assert boards["metadata"]["annotations"] == {"grafana_folder": "Sluice"}
    files = {p.name: p.read_text() for p in (DEPLOY / "grafana").glob("*.json")}
    assert boards["data"] == files
    assert len(json.dumps(boards)) < 1024 * 1024  # a ConfigMap's limit


def _leaves(values: dict[str, Any], prefix: str = "") -> list[str]:
    opaque = {"annotations", "labels", "resources", "podSecurityContext", "securityContext", "behavior"}
    opaque |= {"updateStrategy", "secretKeyRefs"}
    out = []
    for key, value in values.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value and key not in opaque:
            out += _leaves(value, f"{path}.")
        else:
            out.append(path)
    return out


def test_readme_documents_every_value_and_the_schema_knows_it() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    readme = (CHART / "README.md").read_text()
    assert [path for path in _leaves(values) if f"`{path}`" not in readme] == []
    schema = json.loads((CHART / "values.schema.json").read_text())
    unknown = []
    for path in _leaves(values):
        node = schema
        for part in path.split("."):
            node = node.get("properties", {}).get(part)
            if node is None:
                unknown.append(path)
                break
    assert unknown == []
    assert schema["additionalProperties"] is False  # a misspelt value fails, not ignored


def test_chart_version_moved_past_the_first_release() -> None:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["version"] != "0.1.0" and chart["kubeVersion"] == ">=1.25.0-0"
