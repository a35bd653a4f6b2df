/**
 * Which names in a policy tree are policies. Editors and GitOps tools leave files next
 * to the real ones while they work (vim's `.x.swp` and `4913` probe, emacs' `.#x` and
 * `#x#`, `x~` backups, `.git`, git-sync's `.git-sync` worktrees); none of them may ever
 * become desired state.
 */
const POLICY_EXTENSIONS = /\.(ya?ml|json)$/i;
const EDITOR_LEFTOVERS = /(~|\.sw[a-p]|\.tmp|\.bak|\.orig)$/i;

/** Hidden entries (dotfiles and dot-directories such as .git), editor probes and backups. */
export function isIgnoredName(name: string): boolean {
  return name.startsWith('.') || name.startsWith('#') || name === '4913' || EDITOR_LEFTOVERS.test(name);
}

/** A file whose content is reported: not ignored and `.yaml`, `.yml` or `.json`. */
export function isPolicyFileName(name: string): boolean {
  return !isIgnoredName(name) && POLICY_EXTENSIONS.test(name);
}
