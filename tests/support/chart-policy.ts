import type { K8sObject } from './tools.js';

/**
 * Policy checks over rendered manifests: the core of what kube-score, kube-linter and Polaris
 * check, plus this chart's own invariants. Returns violations; an empty list means compliant.
 * `external` names objects that legitimately come from outside the release (existingSecret).
 */
export function chartPolicyViolations(objects: K8sObject[], external: string[] = []): string[] {
  const problems: string[] = [];
  const fail = (object: K8sObject, message: string) => problems.push(`${object.kind}/${object.metadata.name}: ${message}`);
  const named = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);
  const isHook = (object: K8sObject | undefined) => Boolean(object?.metadata.annotations?.['helm.sh/hook']);
  const matches = (selector: Record<string, string> | undefined, labels: Record<string, string> | undefined) =>
    Boolean(selector && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels?.[k] === v));

  // Secrets that the init-secret hook creates in the cluster before any pod starts.
  const generated = objects
    .filter((o) => o.kind === 'Job' && o.spec?.template?.spec?.containers?.[0]?.args?.[0] === 'init-secret')
    .map((job) => {
      const args: string[] = job.spec.template.spec.containers[0].args;
      return isHook(job) ? args[args.indexOf('--name') + 1] : undefined;
    })
    .filter((name): name is string => Boolean(name));
  external = [...external, ...generated];

  const podSpecs: Array<{ owner: K8sObject; spec: any; labels: Record<string, string> }> = [];
  for (const object of objects) {
    if (object.kind === 'Deployment' || object.kind === 'Job' || object.kind === 'StatefulSet') {
      podSpecs.push({ owner: object, spec: object.spec?.template?.spec, labels: object.spec?.template?.metadata?.labels ?? {} });
    } else if (object.kind === 'Pod') {
      podSpecs.push({ owner: object, spec: object.spec, labels: object.metadata.labels ?? {} });
    }
  }

  for (const { owner, spec } of podSpecs) {
    const pod = spec?.securityContext ?? {};
    if (pod.runAsNonRoot !== true) fail(owner, 'pod securityContext.runAsNonRoot must be true');
    if (pod.seccompProfile?.type !== 'RuntimeDefault') fail(owner, 'pod seccompProfile must be RuntimeDefault');
    // Only the init-secret hook talks to the Kubernetes API.
    const apiClient = isHook(owner) && spec?.containers?.[0]?.args?.[0] === 'init-secret';
    if (spec?.automountServiceAccountToken !== false && !apiClient) fail(owner, 'automountServiceAccountToken must be false');
    if (spec?.hostNetwork || spec?.hostPID || spec?.hostIPC) fail(owner, 'host namespaces are not allowed');
    const serviceAccount = spec?.serviceAccountName;
    if (serviceAccount && !named('ServiceAccount', serviceAccount)) fail(owner, `ServiceAccount ${serviceAccount} is not rendered`);
    for (const container of [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])]) {
      const where = `container ${container.name}`;
      const image: string = container.image ?? '';
      if (!/@sha256:[a-f0-9]{64}$/.test(image) && !/:[^/:@]+$/.test(image)) fail(owner, `${where}: image needs a tag or digest`);
      if (/:latest$/.test(image)) fail(owner, `${where}: image tag latest`);
      for (const kind of ['requests', 'limits']) {
        for (const resource of ['cpu', 'memory']) {
          if (!container.resources?.[kind]?.[resource]) fail(owner, `${where}: resources.${kind}.${resource} missing`);
        }
      }
      const sc = container.securityContext ?? {};
      if (sc.allowPrivilegeEscalation !== false) fail(owner, `${where}: allowPrivilegeEscalation must be false`);
      if (sc.readOnlyRootFilesystem !== true) fail(owner, `${where}: readOnlyRootFilesystem must be true`);
      if (sc.privileged) fail(owner, `${where}: privileged`);
      if (!(sc.capabilities?.drop ?? []).includes('ALL')) fail(owner, `${where}: capabilities must drop ALL`);
      if ((sc.capabilities?.add ?? []).length > 0) fail(owner, `${where}: capabilities added`);
      if (sc.runAsUser === 0) fail(owner, `${where}: runs as root`);
      const tmp = (container.volumeMounts ?? []).find((mount: any) => mount.mountPath === '/tmp');
      const tmpVolume = tmp && (spec.volumes ?? []).find((volume: any) => volume.name === tmp.name);
      if (!tmpVolume?.emptyDir && owner.kind !== 'Pod') fail(owner, `${where}: /tmp must be an emptyDir under a read-only root`);
      for (const source of container.envFrom ?? []) {
        const ref = source.configMapRef?.name ?? source.secretRef?.name;
        const kind = source.configMapRef ? 'ConfigMap' : 'Secret';
        if (ref && !named(kind, ref) && !external.includes(ref)) fail(owner, `${where}: ${kind} ${ref} is not rendered`);
      }
      for (const variable of container.env ?? []) {
        const ref = variable.valueFrom?.secretKeyRef;
        if (ref && !ref.optional && !named('Secret', ref.name) && !external.includes(ref.name)) fail(owner, `${where}: Secret ${ref.name} is not rendered`);
        if (ref && isHook(owner) && !isHook(named('Secret', ref.name)) && !external.includes(ref.name)) {
          fail(owner, `${where}: a hook must not depend on the release's own Secret ${ref.name} (it does not exist yet on install)`);
        }
      }
    }
    if (isHook(owner) && serviceAccount && !isHook(named('ServiceAccount', serviceAccount))) {
      fail(owner, `a hook must not depend on the release's own ServiceAccount ${serviceAccount}`);
    }
  }

  const autoscaled = new Set<string>();
  for (const object of objects) {
    if (object.kind === 'ScaledObject' || object.kind === 'HorizontalPodAutoscaler') {
      const target = object.spec?.scaleTargetRef;
      if (!named(target?.kind, target?.name)) fail(object, `scale target ${target?.kind}/${target?.name} is not rendered`);
      autoscaled.add(target?.name);
    }
  }
  if (objects.some((o) => o.kind === 'ScaledObject') && objects.some((o) => o.kind === 'HorizontalPodAutoscaler')) {
    problems.push('a ScaledObject and an HPA are rendered together');
  }

  for (const deployment of objects.filter((o) => o.kind === 'Deployment')) {
    const spec = deployment.spec;
    const podLabels = spec?.template?.metadata?.labels;
    if (!matches(spec?.selector?.matchLabels, podLabels)) fail(deployment, 'selector does not match the pod labels');
    if (autoscaled.has(deployment.metadata.name) && spec?.replicas !== undefined) fail(deployment, 'replicas set while an autoscaler owns it');
    if (spec?.strategy?.rollingUpdate?.maxUnavailable !== 0) fail(deployment, 'rolling update must keep maxUnavailable 0');
    for (const container of spec?.template?.spec?.containers ?? []) {
      const { livenessProbe, readinessProbe, startupProbe } = container;
      if (!livenessProbe || !readinessProbe || !startupProbe) fail(deployment, `container ${container.name}: liveness, readiness and startup probes required`);
      else if (JSON.stringify(livenessProbe) === JSON.stringify(readinessProbe)) fail(deployment, 'liveness and readiness probes are identical');
    }
    const scaler = objects.find((o) => ['ScaledObject', 'HorizontalPodAutoscaler'].includes(o.kind) && o.spec?.scaleTargetRef?.name === deployment.metadata.name);
    const minReplicas = scaler ? (scaler.spec.minReplicaCount ?? scaler.spec.minReplicas ?? 1) : (spec?.replicas ?? 1);
    const pdb = objects.find((o) => o.kind === 'PodDisruptionBudget' && matches(o.spec?.selector?.matchLabels, podLabels));
    if (minReplicas > 1 && !pdb) fail(deployment, 'more than one replica but no PodDisruptionBudget selects the pods');
    if (!objects.some((o) => o.kind === 'Service' && matches(o.spec?.selector, podLabels))) fail(deployment, 'no Service selects the pods');
    if (!objects.some((o) => o.kind === 'NetworkPolicy' && matches(o.spec?.podSelector?.matchLabels, podLabels))) {
      fail(deployment, 'no NetworkPolicy selects the pods');
    }
    const config = objects.find((o) => o.kind === 'ConfigMap' && o.data?.SHUTDOWN_DRAIN_SECONDS !== undefined);
    const grace = spec?.template?.spec?.terminationGracePeriodSeconds ?? 30;
    const needed = Number(config?.data?.SHUTDOWN_DRAIN_SECONDS ?? 0) + Number(config?.data?.SHUTDOWN_TIMEOUT_SECONDS ?? 0);
    if (!(grace > needed)) fail(deployment, `terminationGracePeriodSeconds ${grace} must exceed drain + shutdown timeout (${needed})`);
  }

  for (const service of objects.filter((o) => o.kind === 'Service')) {
    const pods = podSpecs.filter(({ labels }) => matches(service.spec?.selector, labels));
    if (pods.length === 0) fail(service, 'selector matches no pods');
    for (const port of service.spec?.ports ?? []) {
      if (typeof port.targetPort === 'string') {
        const declared = pods.some(({ spec }) => spec.containers.some((c: any) => (c.ports ?? []).some((p: any) => p.name === port.targetPort)));
        if (!declared) fail(service, `targetPort ${port.targetPort} is not a container port name`);
      }
    }
  }
  for (const monitor of objects.filter((o) => o.kind === 'ServiceMonitor')) {
    // The Prometheus Operator makes a target of every port an endpoint names on every Service the
    // selector matches; a Service without that port is a selector wider than meant.
    const services = objects.filter((o) => o.kind === 'Service' && matches(monitor.spec?.selector?.matchLabels, o.metadata.labels));
    if (services.length === 0) fail(monitor, 'selector matches no Service');
    for (const service of services) {
      for (const endpoint of monitor.spec?.endpoints ?? []) {
        if (!(service.spec?.ports ?? []).some((port: any) => port.name === endpoint.port)) fail(monitor, `selects Service/${service.metadata.name}, which has no port ${endpoint.port}`);
      }
    }
  }
  for (const policy of objects.filter((o) => o.kind === 'NetworkPolicy')) {
    if (!podSpecs.some(({ labels }) => matches(policy.spec?.podSelector?.matchLabels, labels))) fail(policy, 'podSelector matches no pods');
  }
  for (const job of objects.filter((o) => o.kind === 'Job')) {
    // A hook Job is cleaned up by its TTL; a release Job must stay, or Argo CD would recreate it.
    if (isHook(job) && job.spec?.ttlSecondsAfterFinished === undefined) fail(job, 'ttlSecondsAfterFinished missing');
    if (!isHook(job) && job.spec?.ttlSecondsAfterFinished !== undefined) fail(job, 'a release Job must not set ttlSecondsAfterFinished (GitOps would recreate it)');
    if (job.spec?.backoffLimit === undefined) fail(job, 'backoffLimit missing');
  }
  for (const account of objects.filter((o) => o.kind === 'ServiceAccount')) {
    if (account.automountServiceAccountToken !== false) fail(account, 'automountServiceAccountToken must be false');
  }
  return problems;
}
