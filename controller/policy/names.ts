/**
 * Object names as Kubernetes validates them, so that a policy kawin accepts is one the API
 * server would accept too: `metadata.name` a DNS subdomain (RFC 1123, at most 253
 * characters), `metadata.namespace` a DNS label (at most 63). This also keeps names out of
 * file names, log lines and gRPC trailers unbounded or unprintable (`..`, U+202E).
 */
export const MAX_NAME_LENGTH = 253;
export const MAX_NAMESPACE_LENGTH = 63;

const LABEL = '[a-z0-9](?:[-a-z0-9]*[a-z0-9])?';
const DNS_SUBDOMAIN = new RegExp(`^${LABEL}(?:\\.${LABEL})*$`);
const DNS_LABEL = new RegExp(`^${LABEL}$`);
/** How much of a refused value an error message quotes. */
const QUOTED = 64;

/** A refused value, quoted safely: bounded and with controls and non-ASCII escaped. */
export function quoteName(value: string): string {
  const head = value.length > QUOTED ? `${value.slice(0, QUOTED)}…` : value;
  const escaped = JSON.stringify(head).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return value.length > QUOTED ? `${escaped} (${value.length} characters)` : escaped;
}

/** Why `name` is not a valid metadata.name, or undefined when it is. */
export function nameProblem(name: string): string | undefined {
  if (name.length > MAX_NAME_LENGTH) return `metadata.name is longer than ${MAX_NAME_LENGTH} characters: ${quoteName(name)}`;
  if (!DNS_SUBDOMAIN.test(name)) {
    return `metadata.name ${quoteName(name)} is not a DNS subdomain (lower-case letters, digits, '-' and '.', starting and ending with a letter or digit), as Kubernetes requires`;
  }
  return undefined;
}

/** Why `namespace` is not a valid metadata.namespace, or undefined when it is. */
export function namespaceProblem(namespace: string): string | undefined {
  if (namespace.length <= MAX_NAMESPACE_LENGTH && DNS_LABEL.test(namespace)) return undefined;
  return `metadata.namespace ${quoteName(namespace)} is not a DNS label (at most ${MAX_NAMESPACE_LENGTH} lower-case letters, digits and '-', starting and ending with a letter or digit), as Kubernetes requires`;
}

/** The first problem of a name and (optional) namespace, with the field it concerns. */
export function identityProblem(name: string, namespace?: string): { field: string; message: string } | undefined {
  const badName = nameProblem(name);
  if (badName) return { field: 'metadata.name', message: badName };
  const badNamespace = namespace === undefined ? undefined : namespaceProblem(namespace);
  return badNamespace ? { field: 'metadata.namespace', message: badNamespace } : undefined;
}
