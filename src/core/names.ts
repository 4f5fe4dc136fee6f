// Name rules for owners, modules, plugins and templates, and parsing of `owner/name[:ref]`.
import { invalidArgument } from "./errors.js";

const namePattern = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])$/;

/** Owners, modules, plugins and templates share one rule: lowercase letters, digits and `-`, 2–64 chars. */
export function checkName(kind: string, name: string): string {
  if (!namePattern.test(name)) {
    throw invalidArgument(
      `invalid ${kind} name "${name}": use 2-64 lowercase letters, digits or "-", starting and ending with a letter or digit`,
    );
  }
  return name;
}

export function isValidName(name: string): boolean {
  return namePattern.test(name);
}

export interface FullName {
  owner: string;
  name: string;
}

/** Parses `owner/name`; with `allowHost`, a leading `host/` (as in buf.yaml `buf.build/acme/pay`) is dropped. */
export function parseFullName(kind: string, text: string, opts: { allowHost?: boolean } = {}): FullName {
  let parts = text.split("/");
  if (opts.allowHost && parts.length === 3) parts = parts.slice(1);
  if (parts.length !== 2) {
    throw invalidArgument(`invalid ${kind} "${text}": expected OWNER/NAME`);
  }
  const [owner = "", name = ""] = parts;
  return { owner: checkName("owner", owner), name: checkName(kind, name) };
}

/** Parses `[host/]owner/name[:ref]` as written in buf.yaml deps. */
export function parseModuleRef(text: string): FullName & { ref?: string } {
  const colon = text.lastIndexOf(":");
  // A colon before the first slash belongs to a host:port, not a ref.
  const hasRef = colon > text.indexOf("/") && colon !== -1;
  const nameText = hasRef ? text.slice(0, colon) : text;
  const full = parseFullName("module", nameText, { allowHost: true });
  return hasRef ? { ...full, ref: text.slice(colon + 1) } : full;
}

export const commitIdPattern = /^[0-9a-f]{32}$/;

export function isCommitId(ref: string): boolean {
  return commitIdPattern.test(ref);
}

const labelPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** Whether text could name a label (commit ids, 32 hex characters, are references too but never labels). */
export function isLabelName(text: string): boolean {
  return labelPattern.test(text) && !isCommitId(text);
}

export function checkLabel(label: string): string {
  if (!labelPattern.test(label) || isCommitId(label)) {
    throw invalidArgument(
      `invalid label "${label}": use up to 100 letters, digits, ".", "_" or "-", and not 32 hex characters (that is a commit id)`,
    );
  }
  return label;
}
