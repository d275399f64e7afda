# shellcheck shell=bash
# The configuration files of the test node's programs (scripts/node sources this after lib.sh):
# containerd's, the pod network's (CNI), the kubelet's and kube-proxy's.

# containerd_config FILE STATE SOCKET REGISTRY_PORT: containerd keeping everything under STATE,
# serving SOCKET, with the loopback registry on REGISTRY_PORT as the mirror of every registry.
containerd_config() {
  local file=$1 state=$2 socket=$3 registry_port=$4 mirrors="" registry
  for registry in docker.io ghcr.io quay.io registry.k8s.io; do
    mirrors+="
      [plugins.\"io.containerd.grpc.v1.cri\".registry.mirrors.\"$registry\"]
        endpoint = [\"http://127.0.0.1:$registry_port\"]"
  done
  # SystemdCgroup off (no systemd); restrict_oom_score_adj: this machine's bounding set lacks
  # CAP_SYS_RESOURCE, and runc fails on a refused oom_score_adj write; network namespaces under
  # the state directory (this mount namespace's), the streaming server on loopback.
  cat >"$file" <<TOML
version = 2
root = "$state/containerd"
state = "$state/containerd-state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "$socket"
[plugins]
  [plugins."io.containerd.internal.v1.opt"]
    path = "$state/containerd-opt"
  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "registry.k8s.io/pause:3.10"
    stream_server_address = "127.0.0.1"
    restrict_oom_score_adj = true
    netns_mounts_under_state_dir = true
    [plugins."io.containerd.grpc.v1.cri".containerd]
      default_runtime_name = "runc"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
          SystemdCgroup = false
    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "/usr/lib/cni"
      conf_dir = "$state/cni"
    [plugins."io.containerd.grpc.v1.cri".registry]$mirrors
TOML
}

# cni_config FILE STATE: pods on a bridge with the node as gateway; hairpin so that a pod reaches
# itself through its Service; no masquerade (nothing leaves the namespace).
cni_config() {
  local file=$1 state=$2
  cat >"$file" <<JSON
{
  "cniVersion": "1.0.0",
  "name": "records-test",
  "plugins": [
    { "type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": false, "hairpinMode": true,
      "ipam": { "type": "host-local", "dataDir": "$state/cni-ipam", "ranges": [[{ "subnet": "10.244.0.0/24" }]],
                "routes": [{ "dst": "0.0.0.0/0" }] } },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
JSON
}

# kubelet_config FILE DIR STATE SOCKET NODE_IP: cgroup v1 here (failCgroupV1: false), the cgroupfs
# driver (no systemd), the cgroup root under this run's own cgroup; no host resolv.conf (nothing
# outside resolves); evictions only near the end of memory and disk, so a busy machine does not
# evict the suite's pods.
kubelet_config() {
  local file=$1 dir=$2 state=$3 socket=$4 node_ip=$5
  cat >"$file" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupRoot: $(cat "$dir/cgroup-root")
failSwapOn: false
resolvConf: ""
clusterDNS: [10.96.0.10]
clusterDomain: cluster.local
containerRuntimeEndpoint: unix://$socket
address: $node_ip
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $(free_port)
tlsCertFile: $dir/pki/kubelet-serving.crt
tlsPrivateKeyFile: $dir/pki/kubelet-serving.key
authentication:
  anonymous: { enabled: false }
  webhook: { enabled: true }
  x509: { clientCAFile: $dir/pki/ca.crt }
authorization: { mode: Webhook }
podLogsDir: $state/kubelet-logs
serializeImagePulls: false
evictionHard: { memory.available: 200Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1% }
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
YAML
}

# kube_proxy_config FILE STATE NODE NODE_IP: every conntrack value 0, so kube-proxy leaves the
# machine-wide nf_conntrack_max alone.
kube_proxy_config() {
  local file=$1 state=$2 node=$3 node_ip=$4
  cat >"$file" <<YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: { kubeconfig: $state/kube-proxy.kubeconfig }
mode: iptables
hostnameOverride: $node
clusterCIDR: 10.244.0.0/16
bindAddress: $node_ip
healthzBindAddress: 127.0.0.1:$(free_port)
metricsBindAddress: 127.0.0.1:$(free_port)
conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s }
YAML
}
