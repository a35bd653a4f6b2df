/**
 * Normalization as upstream KubeArmor does it: actions capitalised (absent = Block),
 * severity/tags/message/action inherited rule → category → spec, comma lists
 * expanded. Also finds what the schema cannot: path problems valid on no node, and
 * fields Windows cannot enforce (warnings: the rest of the policy still applies).
 */
import { diagnosePath } from './paths.js';
import type {
  ActionName, HostSelector, PathForm, PolicyKind, PolicyRule, ProblemCode, RuleTarget, SourceSpec, WorkloadSelector,
} from './types.js';

/** A problem before positions are known. */
export interface Finding {
  severity: 'error' | 'warning';
  code: ProblemCode;
  field: string;
  anchor: 'key' | 'value';
  message: string;
}

type Node = Record<string, unknown>;
interface Meta { action: ActionName; severity: number; tags: string[]; message: string }

export interface Normalized {
  defaults: Meta;
  selector: HostSelector | WorkloadSelector;
  rules: PolicyRule[];
  /** Network/capability entries, comma lists expanded: validated and reported, not enforced on Windows. */
  unenforced: { category: string; value: string; field: string }[];
  findings: Finding[];
}

const LISTS: { list: string; form: PathForm; key: string }[] = [
  { list: 'matchPaths', form: 'path', key: 'path' },
  { list: 'matchDirectories', form: 'directory', key: 'dir' },
  { list: 'matchPatterns', form: 'pattern', key: 'pattern' },
];
const UNSUPPORTED_SECTIONS: Record<string, string> = {
  network: 'network rules are not enforced on Windows yet',
  capabilities: 'capabilities are a Linux concept and are not enforced on Windows',
  syscalls: 'syscall rules are not enforced on Windows',
  device: 'device rules are not enforced on Windows yet',
  presets: 'presets are not enforced on Windows',
  apparmor: 'AppArmor profiles do not exist on Windows',
};
/** The lists that make rules in a section; a section without any entry is not a rule. */
const SECTION_LISTS: Record<string, string[]> = {
  network: ['matchProtocols', 'matchDNSQueries'],
  capabilities: ['matchCapabilities'],
  syscalls: ['matchSyscalls', 'matchPaths'],
  device: ['matchDevice'],
};
/** Host rules of these sections that upstream's CRD (not its agent) requires a fromSource on. */
const HOST_SOURCED: [string, string][] = [['network', 'matchProtocols'], ['network', 'matchDNSQueries'], ['capabilities', 'matchCapabilities']];

/**
 * Whether a section holds a rule: karmor's encoding sends `network: {}` and friends for
 * every policy (Go structs without omitempty), which say nothing.
 */
function hasRules(section: string, value: unknown): boolean {
  if (value === undefined) return false;
  if (section === 'presets') return Array.isArray(value) && value.length > 0;
  if (section === 'apparmor') return value !== '';
  const lists = SECTION_LISTS[section];
  if (!lists || !isNode(value)) return true; // not the shape the schema allows: reported there
  return lists.some((list) => Array.isArray(value[list]) && value[list].length > 0) || Object.keys(value).some((k) => !lists.includes(k) && !META_KEYS.has(k));
}
const META_KEYS = new Set(['action', 'severity', 'tags', 'message']);

export function normalizeSpec(kind: PolicyKind, spec: Node): Normalized {
  const findings: Finding[] = [];
  // Severity 0 is "not set": alerts then carry none, as upstream omits it.
  const defaults = inherit(spec, { action: 'Block', severity: 0, tags: [], message: '' });
  const rules: PolicyRule[] = [];
  for (const target of ['process', 'file'] as const) {
    const category = spec[target];
    if (isNode(category)) rules.push(...categoryRules(target, category, inherit(category, defaults), findings));
  }
  for (const [section, words] of Object.entries(UNSUPPORTED_SECTIONS)) {
    if (hasRules(section, spec[section])) findings.push(unsupported(`spec.${section}`, `${words}; the rest of the policy is applied`));
  }
  if (kind === 'KubeArmorHostPolicy') findings.push(...unsourcedHostRules(spec));
  return { defaults, selector: selectorOf(kind, spec), rules, unenforced: expandLists(spec), findings };
}

function categoryRules(target: RuleTarget, category: Node, meta: Meta, findings: Finding[]): PolicyRule[] {
  const rules: PolicyRule[] = [];
  for (const { list, form, key } of LISTS) {
    const items = category[list];
    if (!Array.isArray(items)) continue; // anything else is the schema's to report
    const at: RuleList = { target, list, form, key };
    for (let i = 0; i < items.length; i++) {
      const item: unknown = items[i];
      if (!isNode(item)) continue;
      checkUnsupportedFields(item, target, list, i, findings);
      const value = item[key];
      if (typeof value !== 'string') {
        // A missing or mistyped value is the schema's to report, except execname alone.
        if (value !== undefined || item.execname === undefined) continue;
        findings.push(unsupported(entryPath(target, list, i), 'this entry has no path: execname alone is not enforced on Windows, so it produces no rule'));
        continue;
      }
      const rule = new EntryRule(at, i, value, item, inherit(item, meta));
      if (checkRule(rule, item, findings)) rules.push(rule);
    }
  }
  return rules;
}

/**
 * Where an entry of a rule list was written: `spec.file.matchPaths[2]`. Rules keep the
 * parts and make the string when asked (a problem's position): made eagerly, the field
 * paths of 100k rules were ~700k strings, 25 MB of a cold start's survivors.
 */
const entryPath = (target: RuleTarget, list: string, index: number): string => `spec.${target}.${list}[${index}]`;

/** One rule list of a category (`spec.file.matchPaths`): what its entries share. */
interface RuleList { target: RuleTarget; list: string; form: PathForm; key: string }

/**
 * A rule of one list entry. What it shares with its list and with the entries that
 * inherit the same action, severity, tags and message is read from them (most entries
 * set none), and its field path is made when asked: 100k rules are 100k small objects.
 */
class EntryRule implements PolicyRule {
  sources: SourceSpec[] = NO_SOURCES;
  readonly recursive: boolean;
  readonly readOnly: boolean;
  constructor(private readonly at: RuleList, private readonly index: number, readonly value: string, item: Node, private readonly meta: Meta) {
    this.recursive = item.recursive === true;
    this.readOnly = item.readOnly === true;
  }
  get target(): RuleTarget { return this.at.target; }
  get form(): PathForm { return this.at.form; }
  get action(): ActionName { return this.meta.action; }
  get severity(): number { return this.meta.severity; }
  get tags(): string[] { return this.meta.tags; }
  get message(): string { return this.meta.message; }
  get entry(): string { return entryPath(this.at.target, this.at.list, this.index); }
  get field(): string { return `${this.entry}.${this.at.key}`; }
}

/** A fromSource entry of a rule, its field path made when asked. */
class EntrySource implements SourceSpec {
  constructor(readonly path: string, readonly form: 'path' | 'directory', readonly recursive: boolean, private readonly rule: EntryRule, private readonly index: number) {}
  get field(): string { return `${this.rule.entry}.fromSource[${this.index}].${this.form === 'path' ? 'path' : 'dir'}`; }
}

/** The rule's path and sources checked: false (and findings) when it cannot be a rule. */
function checkRule(rule: EntryRule, item: Node, findings: Finding[]): boolean {
  const problem = diagnosePath(rule.value, rule.form);
  if (problem) findings.push({ severity: 'error', code: 'path', field: rule.field, anchor: 'value', message: problem });
  const sources = sourcesOf(item, rule, findings);
  if (problem || !sources) return false;
  if (sources.length > 0) rule.sources = sources;
  return true;
}

const NO_SOURCES: SourceSpec[] = [];

function sourcesOf(item: Node, rule: EntryRule, findings: Finding[]): SourceSpec[] | undefined {
  if (item.fromSource === undefined) return NO_SOURCES;
  const sources: SourceSpec[] = [];
  let ok = true;
  nodes(item.fromSource).forEach((source, j) => {
    const path = typeof source.path === 'string' ? source.path : undefined;
    const dir = typeof source.dir === 'string' ? source.dir : undefined;
    if ((path === undefined) === (dir === undefined)) {
      findings.push({ severity: 'error', code: 'schema', field: `${rule.entry}.fromSource[${j}]`, anchor: 'value', message: 'a fromSource entry needs exactly one of path (a program) or dir (a directory of programs)' });
      ok = false;
      return;
    }
    const spec = new EntrySource((path ?? dir)!, path !== undefined ? 'path' : 'directory', source.recursive === true, rule, j);
    const problem = diagnosePath(spec.path, spec.form);
    if (problem) {
      findings.push({ severity: 'error', code: 'path', field: spec.field, anchor: 'value', message: problem });
      ok = false;
      return;
    }
    sources.push(spec);
  });
  return ok ? sources : undefined;
}

function unsourcedHostRules(spec: Node): Finding[] {
  const out: Finding[] = [];
  for (const [section, list] of HOST_SOURCED) {
    const node = spec[section];
    nodes(isNode(node) ? node[list] : undefined).forEach((item, i) => {
      if (item.fromSource !== undefined) return;
      out.push({
        severity: 'warning', code: 'document', field: `spec.${section}.${list}[${i}]`, anchor: 'key',
        message: 'no fromSource: the rule applies to every program, as upstream\'s agent reads it (upstream\'s CRD requires fromSource on host rules, so a cluster refuses this)',
      });
    });
  }
  return out;
}

function checkUnsupportedFields(item: Node, target: RuleTarget, list: string, index: number, findings: Finding[]): void {
  if (item.pts === true) findings.push(unsupported(`${entryPath(target, list, index)}.pts`, 'pts (only processes on a pseudo-terminal) is not enforced on Windows: the rule applies to every process'));
  if (item.ownerOnly === true) findings.push(unsupported(`${entryPath(target, list, index)}.ownerOnly`, 'ownerOnly is not enforced on Windows: the rule applies to every user'));
  if (item.execname !== undefined) findings.push(unsupported(`${entryPath(target, list, index)}.execname`, 'execname is not enforced on Windows; the path (if any) is'));
  if (item.allowedArgs !== undefined) findings.push(unsupported(`${entryPath(target, list, index)}.allowedArgs`, 'allowedArgs is not enforced on Windows: any arguments are allowed'));
}

function unsupported(field: string, message: string): Finding {
  return { severity: 'warning', code: 'unsupported', field, anchor: 'key', message };
}

/** The most specific of rule, category and spec wins; action spelled as upstream does. */
function inherit(node: Node, parent: Meta): Meta {
  const { action, severity, tags, message } = node;
  // Most entries set none of the four: share the parent's (saves an object per rule).
  if (action === undefined && severity === undefined && tags === undefined && message === undefined) return parent;
  return {
    action: typeof action === 'string' && /^(allow|audit|block)$/i.test(action) ? (capitalize(action) as ActionName) : parent.action,
    severity: typeof severity === 'number' ? severity : parent.severity,
    tags: Array.isArray(tags) && tags.length > 0 ? tags.map(String) : parent.tags,
    message: typeof message === 'string' && message !== '' ? message : parent.message,
  };
}

const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && !Array.isArray(v);
/** The mappings of a list; anything else is left to the schema's errors. */
const nodes = (v: unknown): Node[] => (Array.isArray(v) ? v.filter(isNode) : []);

const capitalize = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1).toLowerCase();

function selectorOf(kind: PolicyKind, spec: Node): HostSelector | WorkloadSelector {
  if (kind === 'KubeArmorHostPolicy') {
    const nodeSelector = isNode(spec.nodeSelector) ? spec.nodeSelector : {};
    return { type: 'node', matchLabels: (isNode(nodeSelector.matchLabels) ? nodeSelector.matchLabels : {}) as Record<string, string> };
  }
  const selector = isNode(spec.selector) ? spec.selector : {};
  return {
    type: 'workload',
    matchLabels: (selector.matchLabels as Record<string, string> | undefined) ?? {},
    matchExpressions: (selector.matchExpressions as WorkloadSelector['matchExpressions'] | undefined) ?? [],
  };
}

function expandLists(spec: Node): Normalized['unenforced'] {
  const out: Normalized['unenforced'] = [];
  const sections: [string, string, string][] = [['network', 'matchProtocols', 'protocol'], ['capabilities', 'matchCapabilities', 'capability']];
  for (const [category, list, key] of sections) {
    const section = spec[category];
    nodes(isNode(section) ? section[list] : undefined).forEach((item, i) => {
      for (const value of String(item[key]).split(',')) {
        if (value.trim()) out.push({ category, value: value.trim().toLowerCase(), field: `spec.${category}.${list}[${i}].${key}` });
      }
    });
  }
  return out;
}
