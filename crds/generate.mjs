// Writes kawin's three CRDs (crds/*.yaml). The YAML files are what ships and what
// kawin's validator loads (controller/policy/schema.ts); this script only keeps the
// repeated parts of the three schemas identical. Run `node crds/generate.mjs` after an
// edit; `node crds/generate.mjs --check` (run by controller/policy/schema.test.ts)
// exits 1 when a file is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { dump } from 'js-yaml';

// Upstream's patterns (`^\/+.*[^\/]$`, `^\/$|^\/.*\/$`) widened with the Windows
// spellings: `C:\x` / `C:/x` and `%SystemRoot%\x`. `/C:/x` already passes upstream's.
const PATH = String.raw`^(\/+.*[^\/]|[A-Za-z]:[\\\/].*[^\\\/]|%[A-Za-z0-9_()]+%([\\\/].*[^\\\/])?)$`;
const DIR = String.raw`^(\/|\/.*\/|[A-Za-z]:[\\\/](.*[\\\/])?|%[A-Za-z0-9_()]+%([\\\/].*)?[\\\/])$`;
const PROTOCOL = '(tcp|TCP|udp|UDP|raw|RAW|icmp|ICMP|icmpv6|ICMPV6|sctp|SCTP|stream|STREAM|dgram|DGRAM|rdm|RDM|seqpacket|SEQPACKET|dccp|DCCP|packet|PACKET|all|ALL)$';
const CAPABILITY = '(chown|dac_override|dac_read_search|fowner|fsetid|kill|setgid|setuid|setpcap|linux_immutable|net_bind_service|net_broadcast|net_admin|net_raw|ipc_lock|ipc_owner|sys_module|sys_rawio|sys_chroot|sys_ptrace|sys_pacct|sys_admin|sys_boot|sys_nice|sys_resource|sys_time|sys_tty_config|mknod|lease|audit_write|audit_control|setfcap|mac_override|mac_admin)$';

const str = { type: 'string' };
const bool = { type: 'boolean' };
const strings = { type: 'array', items: str };
const path = { type: 'string', pattern: PATH };
const dir = { type: 'string', pattern: DIR };
// Lower-case spellings are accepted (and capitalised) as upstream's agent does.
const action = { type: 'string', enum: ['Allow', 'Audit', 'Block', 'allow', 'audit', 'block'] };
const severity = { type: 'integer', minimum: 1, maximum: 10 };
const meta = { action, message: str, severity, tags: strings };
const obj = (properties, required) => ({ type: 'object', properties, ...(required ? { required } : {}) });
const list = (item) => ({ type: 'array', items: item });
// kawin extension: `dir` (+ `recursive`) names a directory of source programs, as
// upstream's syscalls.fromSource already allows.
const fromSource = list(obj({ path, dir, recursive: bool }));

// `pts` (upstream: the rule applies to processes on a pseudo-terminal) is accepted and
// reported, not enforced on Windows.
const pts = bool;
const processSpec = obj({
  ...meta,
  matchDirectories: list(obj({ ...meta, dir, fromSource, ownerOnly: bool, pts, recursive: bool }, ['dir'])),
  matchPaths: list(obj({ ...meta, allowedArgs: strings, execname: { type: 'string', pattern: String.raw`^[^\/]+$` }, fromSource, ownerOnly: bool, path, pts })),
  matchPatterns: list(obj({ ...meta, ownerOnly: bool, pattern: str }, ['pattern'])),
});
const fileSpec = obj({
  ...meta,
  matchDirectories: list(obj({ ...meta, dir, fromSource, ownerOnly: bool, pts, readOnly: bool, recursive: bool }, ['dir'])),
  matchPaths: list(obj({ ...meta, fromSource, ownerOnly: bool, path, pts, readOnly: bool }, ['path'])),
  matchPatterns: list(obj({ ...meta, ownerOnly: bool, pattern: str, readOnly: bool }, ['pattern'])),
});
// Upstream's CRD requires fromSource on host network and capability rules; its agent
// does not (its own non-Kubernetes tests send rules without one, meaning every program),
// so kawin does not either and warns instead (controller/policy/normalize.ts).
const network = obj({
  ...meta,
  matchDNSQueries: list(obj({ ...meta, domain: str, fromSource }, ['domain'])),
  matchProtocols: list(obj({ ...meta, fromSource, protocol: { type: 'string', pattern: PROTOCOL }, pts }, ['protocol'])),
});
const capabilities = obj({
  ...meta,
  matchCapabilities: list(obj({ ...meta, capability: { type: 'string', pattern: CAPABILITY }, fromSource }, ['capability'])),
});
const syscallSource = list(obj({ dir: str, path, recursive: bool }));
const syscalls = obj({
  matchPaths: list(obj({ fromSource: syscallSource, path: { type: 'string', pattern: `(${PATH})|(${DIR})` }, recursive: bool, syscall: strings })),
  matchSyscalls: list(obj({ fromSource: syscallSource, syscall: strings })),
  message: str, severity, tags: strings,
});
// Device control exists upstream on newer releases; kawin accepts and reports it.
const device = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
const presets = list(obj({ action, name: str }));
const expressions = (keys) => list(obj({ key: { type: 'string', enum: keys }, operator: { type: 'string', enum: ['In', 'NotIn'] }, values: strings }));

const common = () => ({
  ...meta, apparmor: str, capabilities, device, file: fileSpec, network, process: processSpec, syscalls,
});
const specs = {
  KubeArmorHostPolicy: obj({ ...common(), nodeSelector: obj({ matchLabels: { type: 'object', additionalProperties: str } }) }, ['nodeSelector']),
  KubeArmorPolicy: obj({ ...common(), presets, selector: obj({ matchExpressions: expressions(['label']), matchLabels: { type: 'object', additionalProperties: str } }) }),
  KubeArmorClusterPolicy: obj({ ...common(), presets, selector: obj({ matchExpressions: expressions(['namespace', 'label']) }) }),
};
const kinds = [
  { kind: 'KubeArmorHostPolicy', plural: 'kubearmorhostpolicies', short: 'hsp', scope: 'Cluster', selector: '.spec.nodeSelector.matchLabels' },
  { kind: 'KubeArmorPolicy', plural: 'kubearmorpolicies', short: 'ksp', scope: 'Namespaced', selector: '.spec.selector.matchLabels' },
  { kind: 'KubeArmorClusterPolicy', plural: 'kubearmorclusterpolicies', short: 'csp', scope: 'Cluster', selector: '.spec.selector.matchExpressions' },
];

for (const k of kinds) {
  const crd = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${k.plural}.security.kubearmor.com`,
      labels: { 'app.kubernetes.io/part-of': 'kawin' },
      annotations: { 'kawin.io/schema': 'upstream-compatible superset: Windows path spellings, lower-case actions, fromSource.dir, fromSource optional on host network and capability rules' },
    },
    spec: {
      group: 'security.kubearmor.com',
      names: { kind: k.kind, listKind: `${k.kind}List`, plural: k.plural, shortNames: [k.short], singular: k.kind.toLowerCase() },
      scope: k.scope,
      versions: [{
        name: 'v1', served: true, storage: true, subresources: { status: {} },
        additionalPrinterColumns: [
          { jsonPath: '.metadata.creationTimestamp', name: 'Age', type: 'date' },
          { jsonPath: '.spec.action', name: 'Action', priority: 10, type: 'string' },
          { jsonPath: k.selector, name: 'Selector', priority: 10, type: 'string' },
        ],
        schema: {
          openAPIV3Schema: {
            description: `${k.kind} is the Schema for the ${k.plural} API (kawin: KubeArmor-compatible, Windows paths)`,
            type: 'object',
            properties: {
              apiVersion: str, kind: str, metadata: { type: 'object' },
              spec: specs[k.kind],
              status: obj({ status: str }),
            },
          },
        },
      }],
    },
  };
  const text = `# Generated by crds/generate.mjs: edit that file, then run \`node crds/generate.mjs\`.\n${dump(crd, { noRefs: true, lineWidth: -1 })}`;
  const target = new URL(`./${k.plural}.yaml`, import.meta.url);
  if (!process.argv.includes('--check')) writeFileSync(target, text);
  else if (readFileSync(target, 'utf8') !== text) {
    console.error(`crds/${k.plural}.yaml is stale: run node crds/generate.mjs`);
    process.exitCode = 1;
  }
}
