// Who a provider's account is here (docs/sso.md): the linked user, else a user provisioned just in time from the
// claims, and which organization roles the provider's groups grant, taking back at each sign-in what the mapping
// granted and the groups no longer give. Roles given by hand are never touched (their provenance is recorded).
import { Code, isRegistryError, RegistryError } from "../core/errors.js";
import { isValidName } from "../core/names.js";
import type { Role, User } from "../core/types.js";
import type { IdentityStore, MetadataStores, OwnerStore, UserStore } from "../storage/meta/metadata-store.js";
import type { AuditTrail } from "./audit.js";
import type { ClientInfo, Principal } from "./auth.js";

/** What the sign-in rules read of a provider's configuration (config auth.oidc[]). */
export interface ProviderRules {
  name: string;
  issuer: string;
  usernameClaim: string;
  groupsClaim: string;
  orgMapping: Record<string, { org: string; role: Role } | readonly { org: string; role: Role }[]>;
  linkExistingUsers: boolean;
}

export type AccountStores = Pick<UserStore, "getUserByName" | "createUser"> &
  Pick<OwnerStore, "getOrganization"> &
  IdentityStore & {
    transaction<T>(fn: (tx: MetadataStores) => Promise<T>): Promise<T>;
    appendAudit: MetadataStores["appendAudit"];
  };

export interface SignedIn {
  user: User;
  /** The user was provisioned by this sign-in. */
  created: boolean;
  /** Organization roles the mapping granted (or changed) and took back at this sign-in, by organization. */
  granted: { org: string; role: Role }[];
  removed: string[];
}

export interface AccountLog {
  warn(fields: object, message: string): void;
}

const rank: Record<Role, number> = { reader: 1, writer: 2, owner: 3 };

/** The role per organization the groups give: the highest when several groups name one organization. */
export function mappedRoles(
  rules: Pick<ProviderRules, "orgMapping">,
  groups: readonly string[],
): Map<string, Role> {
  const out = new Map<string, Role>();
  for (const group of groups) {
    if (!Object.hasOwn(rules.orgMapping, group)) continue;
    const entry = rules.orgMapping[group];
    const grants = entry === undefined ? [] : Array.isArray(entry) ? entry : [entry];
    for (const { org, role } of grants as readonly { org: string; role: Role }[]) {
      const held = out.get(org);
      if (!held || rank[role] > rank[held]) out.set(org, role);
    }
  }
  return out;
}

/** The groups claim as a list of strings; anything else (absent, a string, numbers) counts as no groups. */
export function groupsOf(claims: Record<string, unknown>, claim: string): string[] {
  const value = claims[claim];
  return Array.isArray(value) ? value.filter((g): g is string => typeof g === "string") : [];
}

export interface SsoAccounts {
  /** `claims` are the ID token's (with the userinfo answer's beside them); `sub` names the account. */
  signIn(
    rules: ProviderRules,
    claims: Record<string, unknown>,
    client: ClientInfo | undefined,
  ): Promise<SignedIn>;
}

/** What signing in through a provider reads and writes. */
interface AccountDeps {
  store: AccountStores;
  audit: Pick<AuditTrail, "appendIn" | "record">;
  log?: AccountLog;
}

export function createSsoAccounts(deps: AccountDeps): SsoAccounts {
  return {
    async signIn(rules, claims, client) {
      const subject = claims.sub;
      if (typeof subject !== "string" || subject === "") {
        throw new RegistryError(Code.Unauthenticated, `${rules.name} sent no subject (sub) for the account`);
      }
      const { user, created } = await userFor(deps, rules, subject, claims, client);
      await deps.store.touchIdentity(rules.issuer, subject);
      const roles = await syncRoles(deps, rules, user, groupsOf(claims, rules.groupsClaim), client);
      return { user, created, ...roles };
    },
  };
}

/** The linked user, or one provisioned (or linked by name) now; refused with a message that says what to fix. */
async function userFor(
  deps: AccountDeps,
  rules: ProviderRules,
  subject: string,
  claims: Record<string, unknown>,
  client: ClientInfo | undefined,
): Promise<{ user: User; created: boolean }> {
  const linked = await deps.store.findIdentity(rules.issuer, subject);
  if (linked) return { user: usable(linked, rules), created: false };
  const name = usernameOf(rules, claims);
  const local = await deps.store.getUserByName(name);
  if (local) {
    if (!rules.linkExistingUsers || local.botOf || local.deletedAt || local.isAdmin) {
      throw new RegistryError(
        Code.FailedPrecondition,
        `user name ${name} (claim ${rules.usernameClaim} of ${rules.name}) belongs to an existing user of this server: ` +
          "an admin may allow linking people by name (auth.oidc[].linkExistingUsers), or map another claim (usernameClaim)",
      );
    }
    await deps.store.linkIdentity({ issuer: rules.issuer, subject, userId: local.id });
    return { user: local, created: false };
  }
  const principal: Principal = client ? { client } : {};
  try {
    const user = await deps.store.transaction(async (tx) => {
      const created = await tx.createUser({ name, isAdmin: false });
      await tx.linkIdentity({ issuer: rules.issuer, subject, userId: created.id });
      await deps.audit.appendIn(
        tx,
        { ...principal, user: created },
        { action: "user.create", target: `user ${name}`, after: { isAdmin: false, provider: rules.name } },
      );
      return created;
    });
    return { user, created: true };
  } catch (err) {
    // The same account signing in twice at once: the other sign-in linked it first.
    const raced = isRegistryError(err, Code.AlreadyExists)
      ? await deps.store.findIdentity(rules.issuer, subject)
      : undefined;
    if (raced) return { user: usable(raced, rules), created: false };
    if (isRegistryError(err, Code.AlreadyExists)) {
      throw new RegistryError(
        Code.FailedPrecondition,
        `user name ${name} (claim ${rules.usernameClaim} of ${rules.name}) is taken by an organization: map another claim (usernameClaim)`,
      );
    }
    throw err;
  }
}

/** Grants what the groups give and takes back what the mapping granted before and the groups no longer give. */
async function syncRoles(
  deps: AccountDeps,
  rules: ProviderRules,
  user: User,
  groups: readonly string[],
  client: ClientInfo | undefined,
): Promise<Pick<SignedIn, "granted" | "removed">> {
  const wanted = mappedRoles(rules, groups);
  const held = new Map((await deps.store.listMappedRoles(user.id, rules.issuer)).map((r) => [r.org, r]));
  const principal: Principal = { user, ...(client ? { client } : {}) };
  const granted: SignedIn["granted"] = [];
  for (const [orgName, role] of wanted) {
    if (held.get(orgName)?.role === role) continue;
    const org = await deps.store.getOrganization(orgName);
    if (!org) {
      deps.log?.warn({ provider: rules.name, org: orgName }, "group mapping names a missing organization");
      continue;
    }
    // False: the user holds a role there given by hand, which the mapping leaves alone.
    if (!(await deps.store.setMappedRole(org.id, user.id, role, rules.issuer))) continue;
    granted.push({ org: orgName, role });
    await deps.audit.record(principal, {
      action: "member.set",
      target: `member ${user.name} of ${orgName}`,
      owner: orgName,
      before: { role: held.get(orgName)?.role ?? null },
      after: { role, grantedBy: rules.name },
    });
  }
  const removed: string[] = [];
  for (const [orgName, mapped] of held) {
    if (wanted.has(orgName)) continue;
    if (!(await deps.store.removeMappedRole(mapped.orgId, user.id, rules.issuer))) continue;
    removed.push(orgName);
    await deps.audit.record(principal, {
      action: "member.remove",
      target: `member ${user.name} of ${orgName}`,
      owner: orgName,
      before: { role: mapped.role, grantedBy: rules.name },
    });
  }
  return { granted, removed };
}

function usernameOf(rules: ProviderRules, claims: Record<string, unknown>): string {
  const value = claims[rules.usernameClaim];
  if (typeof value !== "string" || value === "") {
    throw new RegistryError(
      Code.FailedPrecondition,
      `${rules.name} sent no ${rules.usernameClaim} claim to name the user: map a claim it sends (auth.oidc[].usernameClaim) or ask for its scope (scopes)`,
    );
  }
  if (!isValidName(value)) {
    throw new RegistryError(
      Code.FailedPrecondition,
      `${rules.name} names the user "${value.slice(0, 64)}" (claim ${rules.usernameClaim}), which is not a valid user name here: ` +
        'names are 2-64 lowercase letters, digits or "-"; map another claim (auth.oidc[].usernameClaim)',
    );
  }
  return value;
}

function usable(user: User, rules: ProviderRules): User {
  if (user.deletedAt || user.botOf) {
    throw new RegistryError(
      Code.PermissionDenied,
      `the ${rules.name} account is linked to ${user.name}, which cannot sign in (a bot, or deleted)`,
    );
  }
  return user;
}
