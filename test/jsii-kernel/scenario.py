"""A Python app using cdk-signed-images through the real jsii kernel, as the Python bindings do underneath.

Usage: python3 scenario.py --runtime <jsii-runtime.js> --assemblies <assemblies.json> --outdir <dir> [--node <node>]

assemblies.json: [{"name", "version", "tarball"}, ...] in load order. Prints one JSON line per check:
{"check": <name>, "ok": <bool>, "detail": {...}} (plus "error" when the check raised), then
{"summary": {"checks", "failed", "seconds"}}. Exit status 0 when every check passed, 1 otherwise,
2 when the kernel could not be started at all. Standard library only.
"""

import argparse
import contextlib
import json
import os
import sys
import tarfile
import time
import traceback
import zlib

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from jsii_kernel import EnumValue, Implementation, Kernel, KernelError, ObjRef, Struct  # noqa: E402

LIB = "cdk-signed-images"
CDK = "aws-cdk-lib"
ACCOUNT = "123456789012"
REGION = "us-east-1"
LEGACY_PROFILE_ARN = "arn:aws:signer:us-east-1:123456789012:/signing-profiles/legacy_release"
LEGACY_REPOSITORY = "legacy/app"
LEGACY_URI = "%s.dkr.ecr.%s.amazonaws.com/%s" % (ACCOUNT, REGION, LEGACY_REPOSITORY)
SIDECAR_IMAGE = "public.ecr.aws/aws-observability/aws-otel-collector:v0.40.0"
# Closed sets of ours that the Python bindings should see as native enums.
ENUM_TYPES = ["AdmissionMode", "InconclusiveAction", "VerificationLevel", "VerificationAction",
              "TimestampVerification", "TrustStoreType", "UnpinnedImageAction"]

results = []


def emit(name, ok, detail=None, error=None):
    line = {"check": name, "ok": bool(ok), "detail": detail or {}}
    if error is not None:
        line["error"] = error
    results.append(line)
    print(json.dumps(line, default=str), flush=True)


@contextlib.contextmanager
def check(name):
    """Runs one check; `detail` collects what it saw, `detail['ok']` its verdict; an exception fails it."""
    detail = {}
    start = time.monotonic()
    try:
        yield detail
    except Exception as e:  # one failing check must not hide the others
        detail["ms"] = round((time.monotonic() - start) * 1000)
        emit(name, False, detail, "%s: %s\n%s" % (type(e).__name__, e, traceback.format_exc(limit=3)))
        return
    detail["ms"] = round((time.monotonic() - start) * 1000)
    ok = detail.pop("ok", None)
    if ok is None:
        raise AssertionError("check %s set no verdict" % name)
    emit(name, ok, detail)


class LegacyRepositories(Implementation):
    """A Python implementation of ISignedRepositorySource: an existing signing profile and repository that
    this app did not create. Every property is served by a kernel callback."""

    jsii_interfaces = ["%s.ISignedRepositorySource" % LIB]
    jsii_properties = {"signingProfileArn": "signing_profile_arn", "repositoryUris": "repository_uris",
                       "repositories": "repositories_"}

    def __init__(self, repository):
        self.repository = repository

    @property
    def signing_profile_arn(self):
        return LEGACY_PROFILE_ARN

    @property
    def repository_uris(self):
        return [LEGACY_URI]

    @property
    def repositories_(self):
        return [self.repository]


class BrokenSource(Implementation):
    """An ISigningProfileSource whose property raises in Python: the error must surface in TypeScript and
    come back to the caller as a kernel error."""

    jsii_interfaces = ["%s.ISigningProfileSource" % LIB]
    jsii_properties = {"signingProfileArn": "signing_profile_arn"}

    @property
    def signing_profile_arn(self):
        raise LookupError("no signing profile configured for this account")


def read_assembly_types(tarball):
    """The type table of a packed assembly (what the generated bindings compile in)."""
    with tarfile.open(tarball, "r:gz") as tar:
        spec = json.load(tar.extractfile("package/.jsii"))
        if spec.get("schema") == "jsii/file-redirect":
            raw = tar.extractfile("package/" + spec["filename"]).read()
            spec = json.loads(zlib.decompress(raw, 16 + zlib.MAX_WBITS) if spec.get("compression") == "gzip" else raw)
    return spec["types"]


def struct(fqn, **data):
    return Struct(fqn, data)


def templates_in(outdir):
    """Stack templates and warning annotations from the cloud assembly's manifest."""
    with open(os.path.join(outdir, "manifest.json")) as f:
        manifest = json.load(f)
    templates, warnings = {}, []
    for name, artifact in manifest.get("artifacts", {}).items():
        if artifact.get("type") != "aws:cloudformation:stack":
            continue
        with open(os.path.join(outdir, artifact["properties"]["templateFile"])) as f:
            templates[name] = json.load(f)
        metadata = dict(artifact.get("metadata") or {})
        if artifact.get("additionalMetadataFile"):  # newer aws-cdk-lib keeps the annotations in a side file
            with open(os.path.join(outdir, artifact["additionalMetadataFile"])) as f:
                for path, entries in json.load(f).items():
                    metadata.setdefault(path, []).extend(entries)
        for path, entries in metadata.items():
            for entry in entries:
                if entry.get("type") == "aws:cdk:warning":
                    data = entry.get("data")
                    warnings.append({"path": path, "message": data if isinstance(data, str) else json.dumps(data)})
    return templates, warnings


def resources_of(template, rtype):
    return {k: v for k, v in template.get("Resources", {}).items() if v.get("Type") == rtype}


def iam_statements(template):
    for policy in resources_of(template, "AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement.get("Action")
            resources = statement.get("Resource")
            yield ([actions] if isinstance(actions, str) else actions), ([resources] if not isinstance(resources, list) else resources)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runtime", required=True)
    parser.add_argument("--assemblies", required=True)
    parser.add_argument("--outdir", required=True)
    parser.add_argument("--node", default="node")
    parser.add_argument("--package-cache", default=None)
    args = parser.parse_args()
    with open(args.assemblies) as f:
        assemblies = json.load(f)
    started = time.monotonic()

    env = {"JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    if args.package_cache:
        env["JSII_RUNTIME_PACKAGE_CACHE_ROOT"] = args.package_cache
    try:
        k = Kernel(args.runtime, node=args.node, env=env, timeout=120)
    except Exception as e:
        emit("kernel starts", False, {}, "%s: %s" % (type(e).__name__, e))
        print(json.dumps({"summary": {"checks": len(results), "failed": 1, "seconds": round(time.monotonic() - started, 2)}}))
        return 2

    with check("kernel starts") as d:
        d["hello"] = k.hello
        d["ok"] = k.hello.startswith("@jsii/runtime@")

    # Load every assembly, dependencies first, as a Python app importing aws_cdk and cdk_signed_images does.
    for a in assemblies:
        with check("load %s" % a["name"]) as d:
            t = time.monotonic()
            out = k.load(a["name"], a["version"], a["tarball"], timeout=300)
            d.update(seconds=round(time.monotonic() - t, 2), assembly=out.get("assembly"), types=out.get("types"))
            d["ok"] = out.get("assembly") == a["name"]
    own = [a for a in assemblies if a["name"] == LIB]
    types = read_assembly_types(own[0]["tarball"]) if own else {}

    def member(name, value):
        """An enum member of ours, as the generated Python enum classes pass it."""
        return EnumValue("%s.%s" % (LIB, name), value)

    with check("closed sets are native enums") as d:
        d["kinds"] = {n: types.get("%s.%s" % (LIB, n), {}).get("kind") for n in ENUM_TYPES}
        for n in ENUM_TYPES:
            t = types.get("%s.%s" % (LIB, n), {})
            if t.get("kind") == "enum":
                d.setdefault("members", {})[n] = [m["name"] for m in t.get("members", [])]
        d["ok"] = all(kind == "enum" for kind in d["kinds"].values())

    ctx = {}
    with check("app and stack") as d:
        ctx["app"] = k.create("%s.App" % CDK, struct("%s.AppProps" % CDK, outdir=args.outdir))
        ctx["stack"] = k.create("%s.Stack" % CDK, ctx["app"], "Shop", struct(
            "%s.StackProps" % CDK, env=struct("%s.Environment" % CDK, account=ACCOUNT, region=REGION)))
        d["stack"] = ctx["stack"].ref
        d["ok"] = k.get(ctx["stack"], "stackName") == "Shop" and k.get(ctx["stack"], "region") == REGION
    stack = ctx.get("stack")

    with check("SignedRegistry") as d:
        ctx["registry"] = k.create("%s.SignedRegistry" % LIB, stack, "Images", struct(
            "%s.SignedRegistryProps" % LIB, repositoryName="shop/api"))
        repos = k.get(ctx["registry"], "repositories")
        d["repositories"] = [r.ref for r in repos]
        d["interfaces"] = ctx["registry"].interfaces
        d["ok"] = len(repos) == 1 and all(isinstance(r, ObjRef) for r in repos) and k.get(ctx["registry"], "managedSigning") is True

    with check("validation error reaches Python") as d:
        try:
            k.create("%s.SignedRegistry" % LIB, stack, "Bad", struct("%s.SignedRegistryProps" % LIB, signingProfileName="bad name!"))
            d["raised"] = False
        except KernelError as e:
            d.update(raised=True, name=e.name, message=e.message)
        d["ok"] = d["raised"] and d.get("name") != "@jsii/kernel.Fault" and 'signingProfileName "bad name!" is invalid' in d.get("message", "")

    with check("static validation error reaches Python") as d:
        try:
            k.sinvoke("%s.TrustedIdentity" % LIB, "fromArn", "arn:aws:s3:::not-a-profile")
            d["raised"] = False
        except KernelError as e:
            d.update(raised=True, name=e.name, message=e.message)
        d["ok"] = d["raised"] and d.get("name") != "@jsii/kernel.Fault" and "is not an AWS Signer signing profile ARN" in d.get("message", "")

    with check("Python error in a callback reaches Python") as d:
        try:
            k.sinvoke("%s.TrustPolicy" % LIB, "fromSigningProfiles", BrokenSource())
            d["raised"] = False
        except KernelError as e:
            d.update(raised=True, name=e.name, message=e.message)
        d["ok"] = d["raised"] and d.get("name") != "@jsii/kernel.Fault" and "no signing profile configured for this account" in d.get("message", "")

    with check("Python implements ISignedRepositorySource") as d:
        legacy_repo = k.sinvoke("%s.aws_ecr.Repository" % CDK, "fromRepositoryName", stack, "Legacy", LEGACY_REPOSITORY)
        ctx["legacy"] = LegacyRepositories(legacy_repo)
        before = len(k.callbacks)
        ctx["policy"] = k.sinvoke("%s.TrustPolicy" % LIB, "fromSigningProfiles", ctx["registry"], ctx["legacy"])
        served = sorted(set(name for kind, name in k.callbacks[before:] if kind == "get"))
        statements = k.get(ctx["policy"], "statements")
        scopes = k.get(statements[0], "registryScopes")
        identities = [k.get(i, "value") for i in k.get(statements[0], "trustedIdentities")]
        rendered = k.invoke(stack, "resolve", k.invoke(ctx["policy"], "toJson", stack))
        blob = rendered if isinstance(rendered, str) else json.dumps(rendered)
        d.update(callbacks=served, statements=len(statements), scopes=scopes, identities=identities)
        d["ok"] = (set(served) >= {"signingProfileArn", "repositoryUris", "repositories"}
                   and len(statements) == 1 and len(scopes) == 2 and scopes[1] == LEGACY_URI
                   and LEGACY_PROFILE_ARN in identities
                   and LEGACY_PROFILE_ARN in blob and LEGACY_URI in blob)

    with check("trust policy statement with every enum") as d:
        aws_signer = k.sget("%s.TrustStore" % LIB, "AWS_SIGNER")
        d["awsSignerType"] = repr(k.get(aws_signer, "type"))
        store = k.sinvoke("%s.TrustStore" % LIB, "fromPem", member("TrustStoreType", "SIGNING_AUTHORITY"), "py-signer",
                          k.get(aws_signer, "certificates"))
        hand_written = k.create("%s.TrustPolicy" % LIB, struct("%s.TrustPolicyProps" % LIB, statements=[struct(
            "%s.TrustPolicyStatement" % LIB, name="legacy", registryScopes=[LEGACY_URI],
            level=member("VerificationLevel", "STRICT"),
            overrides=struct("%s.VerificationOverrides" % LIB, revocation=member("VerificationAction", "LOG")),
            verifyTimestamp=member("TimestampVerification", "AFTER_CERT_EXPIRY"),
            trustStores=[store], trustedIdentities=[k.sinvoke("%s.TrustedIdentity" % LIB, "fromArn", LEGACY_PROFILE_ARN)])]))
        # toJson is a lazy token (CloudFormation resolves the rest); with no deploy-time values it resolves to plain JSON.
        statement = json.loads(k.invoke(stack, "resolve", k.invoke(hand_written, "toJson", stack)))["trustPolicies"][0]
        d.update(signatureVerification=statement["signatureVerification"], trustStores=statement["trustStores"],
                 trustedIdentities=statement["trustedIdentities"])
        d["ok"] = (d["awsSignerType"] == "%s.TrustStoreType/SIGNING_AUTHORITY" % LIB
                   and statement["signatureVerification"] == {"level": "strict", "override": {"revocation": "log"}, "verifyTimestamp": "afterCertExpiry"}
                   and statement["trustStores"] == ["signingAuthority:py-signer"]
                   and statement["registryScopes"] == [LEGACY_URI])

    with check("an enum member that does not exist is refused") as d:
        try:
            k.create("%s.EcsAdmissionHook" % LIB, stack, "Maybe", struct(
                "%s.EcsAdmissionHookProps" % LIB, trustPolicy=ctx["policy"], mode=EnumValue("%s.AdmissionMode" % LIB, "MAYBE")))
            d["raised"] = False
        except KernelError as e:
            d.update(raised=True, name=e.name, message=e.message)
        d["ok"] = d["raised"] and "MAYBE" in d.get("message", "")

    with check("SigningProfileSource adapts an aws_signer profile") as d:
        # aws-cdk-lib's imported profile renders "://signing-profiles"; the adapter repairs it, also across the kernel.
        imported = k.sinvoke("%s.aws_signer.SigningProfile" % CDK, "fromSigningProfileAttributes", stack, "Imported", struct(
            "%s.aws_signer.SigningProfileAttributes" % CDK, signingProfileName="imported_release", signingProfileVersion="v1"))
        source = k.sinvoke("%s.SigningProfileSource" % LIB, "fromSigningProfile", imported)
        arn = json.dumps(k.invoke(stack, "resolve", k.get(source, "signingProfileArn")))
        d.update(sourceInterfaces=source.interfaces, arn=arn)
        policy = k.sinvoke("%s.TrustPolicy" % LIB, "fromSigningProfiles", source)
        scopes = k.get(k.get(policy, "statements")[0], "registryScopes")
        d["scopes"] = scopes
        d["ok"] = ":/signing-profiles/imported_release" in arn and "://signing-profiles" not in arn and scopes == ["*"]

    with check("invalid trust policy statement reaches Python") as d:
        bad = k.create("%s.TrustPolicy" % LIB)
        try:
            k.invoke(bad, "addStatement", struct("%s.TrustPolicyStatement" % LIB, name="no-scopes", registryScopes=[],
                                                 trustedIdentities=[k.sinvoke("%s.TrustedIdentity" % LIB, "any")],
                                                 trustStores=[k.sget("%s.TrustStore" % LIB, "AWS_SIGNER")]))
            k.invoke(bad, "toJson", stack)
            d["raised"] = False
        except KernelError as e:
            d.update(raised=True, name=e.name, message=e.message)
        d["ok"] = d["raised"] and d.get("name") != "@jsii/kernel.Fault" and "invalid trust policy" in d.get("message", "") and 'statement "no-scopes" has zero registry scopes' in d.get("message", "")

    with check("ImageVerifierFunction") as d:
        arm = k.sget("%s.aws_lambda.Architecture" % CDK, "ARM_64")
        fn = k.create("%s.ImageVerifierFunction" % LIB, stack, "Verifier", struct(
            "%s.ImageVerifierFunctionProps" % LIB, trustPolicy=ctx["policy"], architecture=arm, memorySize=512,
            exemptions=["public.ecr.aws/aws-observability/*"]))
        d["ref"] = fn.ref
        d["ok"] = fn.fqn == "%s.ImageVerifierFunction" % LIB

    with check("ECS service built through the kernel") as d:
        vpc = k.create("%s.aws_ec2.Vpc" % CDK, stack, "Vpc", struct("%s.aws_ec2.VpcProps" % CDK, maxAzs=2, natGateways=1))
        ctx["cluster"] = k.create("%s.aws_ecs.Cluster" % CDK, stack, "Cluster", struct("%s.aws_ecs.ClusterProps" % CDK, vpc=vpc))
        task = k.create("%s.aws_ecs.FargateTaskDefinition" % CDK, stack, "Task", struct(
            "%s.aws_ecs.FargateTaskDefinitionProps" % CDK, cpu=256, memoryLimitMiB=512))
        repo = k.get(ctx["registry"], "repositories")[0]
        app_image = k.sinvoke("%s.aws_ecs.ContainerImage" % CDK, "fromEcrRepository", repo, "v1")
        sidecar = k.sinvoke("%s.aws_ecs.ContainerImage" % CDK, "fromRegistry", SIDECAR_IMAGE)
        k.invoke(task, "addContainer", "app", struct("%s.aws_ecs.ContainerDefinitionOptions" % CDK, image=app_image))
        k.invoke(task, "addContainer", "otel", struct("%s.aws_ecs.ContainerDefinitionOptions" % CDK, image=sidecar, essential=False))
        controller = EnumValue("%s.aws_ecs.DeploymentControllerType" % CDK, "ECS")
        ctx["service"] = k.create("%s.aws_ecs.FargateService" % CDK, stack, "Service", struct(
            "%s.aws_ecs.FargateServiceProps" % CDK, cluster=ctx["cluster"], taskDefinition=task,
            deploymentController=struct("%s.aws_ecs.DeploymentController" % CDK, type=controller)))
        d["service"] = ctx["service"].ref
        d["ok"] = ctx["service"].fqn == "%s.aws_ecs.FargateService" % CDK

    with check("EcsAdmissionHook with enums, attached to the service") as d:
        enforce = member("AdmissionMode", "ENFORCE")
        reject = member("InconclusiveAction", "REJECT")
        ctx["hook"] = k.create("%s.EcsAdmissionHook" % LIB, stack, "Admission", struct(
            "%s.EcsAdmissionHookProps" % LIB, trustPolicy=ctx["policy"], mode=enforce, inconclusiveAction=reject))
        k.invoke(ctx["hook"], "attachTo", ctx["service"])
        mode = k.get(ctx["hook"], "mode")
        d["mode"] = repr(mode)
        d["ok"] = mode == enforce  # went in as {"$jsii.enum": ...}, comes back as one

    with check("TaskLaunchAudit") as d:
        audit = k.create("%s.TaskLaunchAudit" % LIB, stack, "Audit", struct(
            "%s.TaskLaunchAuditProps" % LIB, trustPolicy=ctx["policy"], clusters=[ctx["cluster"]]))
        rule = k.get(audit, "rule")
        d["rule"] = rule.ref
        d["ok"] = rule.fqn == "%s.aws_events.Rule" % CDK

    with check("EksAdmissionWebhook on an EKS cluster") as d:
        # Its own stack: the cluster brings aws-cdk-lib's providers, which would blur the Shop stack's checks.
        kube = k.create("%s.Stack" % CDK, ctx["app"], "Kube", struct(
            "%s.StackProps" % CDK, env=struct("%s.Environment" % CDK, account=ACCOUNT, region=REGION)))
        layer = k.create("@aws-cdk/lambda-layer-kubectl-v34.KubectlV34Layer", kube, "Kubectl")
        cluster = k.create("%s.aws_eks.Cluster" % CDK, kube, "Cluster", struct(
            "%s.aws_eks.ClusterProps" % CDK, version=k.sget("%s.aws_eks.KubernetesVersion" % CDK, "V1_34"),
            kubectlLayer=layer, defaultCapacity=0))
        kube_policy = k.sinvoke("%s.TrustPolicy" % LIB, "fromSigningProfiles", LegacyRepositories(
            k.sinvoke("%s.aws_ecr.Repository" % CDK, "fromRepositoryName", kube, "Legacy", LEGACY_REPOSITORY)))
        webhook = k.create("%s.EksAdmissionWebhook" % LIB, kube, "Admission", struct(
            "%s.EksAdmissionWebhookProps" % LIB, cluster=cluster, trustPolicy=kube_policy,
            mode=member("AdmissionMode", "AUDIT"), excludedNamespaces=["amazon-cloudwatch"]))
        d["webhook"] = webhook.ref
        d["ok"] = webhook.fqn == "%s.EksAdmissionWebhook" % LIB

    with check("synth") as d:
        t = time.monotonic()
        assembly = k.invoke(ctx["app"], "synth")
        d["seconds"] = round(time.monotonic() - t, 2)
        d["directory"] = k.get(assembly, "directory")
        d["ok"] = os.path.realpath(d["directory"]) == os.path.realpath(args.outdir) and os.path.exists(os.path.join(args.outdir, "manifest.json"))

    templates, warnings = {}, []
    with check("cloud assembly read by Python") as d:
        templates, warnings = templates_in(args.outdir)
        d["stacks"] = sorted(templates)
        d["ok"] = d["stacks"] == ["Kube", "Shop"]
    template = templates.get("Shop", {})

    def count(rtype):
        return len(resources_of(template, rtype))

    with check("template has the expected resources") as d:
        repos = resources_of(template, "AWS::ECR::Repository").values()
        services = resources_of(template, "AWS::ECS::Service").values()
        rules = resources_of(template, "AWS::Events::Rule").values()
        hooks = [h for s in services for h in s["Properties"].get("DeploymentConfiguration", {}).get("LifecycleHooks", [])]
        d["counts"] = {t: count(t) for t in ["AWS::Lambda::Function", "AWS::ECR::Repository", "AWS::Signer::SigningProfile",
                                               "AWS::ECR::SigningConfiguration", "AWS::ECS::Service", "AWS::Events::Rule"]}
        d["repositoryNames"] = [r["Properties"].get("RepositoryName") for r in repos]
        d["hookStages"] = [h.get("LifecycleStages") for h in hooks]
        d["rulePatterns"] = [r["Properties"].get("EventPattern", {}).get("detail-type") for r in rules]
        d["ok"] = (d["counts"]["AWS::Lambda::Function"] >= 3  # hook + audit verifiers + the standalone one
                   and d["repositoryNames"] == ["shop/api"]
                   and d["counts"]["AWS::Signer::SigningProfile"] == 1
                   and d["counts"]["AWS::ECR::SigningConfiguration"] == 1
                   and d["hookStages"] == [["PRE_SCALE_UP"]]
                   and ["ECS Task State Change"] in d["rulePatterns"])

    with check("Kube template has the webhook") as d:
        kube_template = templates.get("Kube", {})
        # The library applies its webhook configurations with its own custom resource (the secret
        # never passes through the kubectl provider, which logs the resolved manifest).
        configurations = resources_of(kube_template, "Custom::SignedImagesEksWebhookConfigurations").values()
        blob = json.dumps([c["Properties"].get("Manifest") for c in configurations])
        d["webhookKinds"] = [kind for kind in ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration") if kind in blob]
        d["functionUrls"] = len(resources_of(kube_template, "AWS::Lambda::Url"))
        d["ok"] = "ValidatingWebhookConfiguration" in d["webhookKinds"] and d["functionUrls"] >= 1

    with check("ECR pull is scoped to the policy's repositories") as d:
        pull = [(a, r) for a, r in iam_statements(template) if "ecr:BatchGetImage" in a]
        d["pullResources"] = [r for _, r in pull]
        d["ecrOnStar"] = [a for a, r in iam_statements(template) if "*" in r and any(x.startswith("ecr:") and x != "ecr:GetAuthorizationToken" for x in a)]
        # The Python-served repository's ARN (the partition stays a token) next to the registry's own.
        legacy_arn = ":ecr:%s:%s:repository/%s" % (REGION, ACCOUNT, LEGACY_REPOSITORY)
        with_legacy = [r for _, r in pull if legacy_arn in json.dumps(r)]
        d["verifierFunctions"] = count("AWS::Lambda::Function")
        d["ok"] = not d["ecrOnStar"] and len(with_legacy) == d["verifierFunctions"] == 3

    with check("scope warning for the sidecar reaches the assembly") as d:
        outside = [w for w in warnings if "imageOutsideTrustPolicy" in w["message"] and SIDECAR_IMAGE.split(":")[0] in w["message"]]
        d["warnings"] = warnings
        d["ok"] = len(outside) == 1 and outside[0]["path"].startswith("/Shop/Service")

    with check("kernel exits cleanly") as d:
        d["exitCode"] = k.close()
        d["callbacks"] = len(k.callbacks)
        d["ok"] = d["exitCode"] == 0

    failed = sum(1 for r in results if not r["ok"])
    print(json.dumps({"summary": {"checks": len(results), "failed": failed, "seconds": round(time.monotonic() - started, 2)}}), flush=True)
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
