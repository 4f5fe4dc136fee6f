// Organizations and their members. Users and organizations share one owner namespace (the store enforces it).
import { Code, isRegistryError, RegistryError } from "../core/errors.js";
import { checkName } from "../core/names.js";
import type { Member, Organization, Role, User } from "../core/types.js";
import type { MetadataStores, OwnerStore, UserStore } from "../storage/meta/metadata-store.js";
import type { AccessPolicy } from "./access.js";
import type { AuditChange, AuditTrail } from "./audit.js";
import { type Principal, requireUser } from "./auth.js";
import { requireUnscoped } from "./scopes.js";

export interface OrganizationServiceOptions {
  access: AccessPolicy;
  /** False: only admins create organizations (config auth.allowOrgCreation). */
  allowOrgCreation: boolean;
  /**
   * Organizations a non-admin user may own (config auth.maxOrgsPerUser); unlimited without it. Creating one is
   * refused at the cap, so names cannot be hoarded (plugin slots count an organization with its owners anyway).
   */
  maxOrgsPerUser?: number | undefined;
  /** Where creations and membership changes are recorded (docs/audit.md), in the change's own transaction. */
  audit?: Pick<AuditTrail, "appendIn">;
}

export interface OrganizationService {
  create(principal: Principal, name: string): Promise<Organization>;
  /** Creates the organization with `owner` as its owner unless it exists (built-in and demo owners). */
  ensure(owner: User, name: string): Promise<Organization>;
  /** The caller's organizations; admins see all. */
  list(principal: Principal): Promise<Organization[]>;
  /** One organization (organizations are never private); NotFound for a user's name or a missing one. */
  get(name: string): Promise<Organization>;
  /** Adds a member or changes its role. */
  setMember(principal: Principal, org: string, userName: string, role: Role): Promise<Member>;
  removeMember(principal: Principal, org: string, userName: string): Promise<void>;
  listMembers(principal: Principal, org: string): Promise<Member[]>;
  /** Deletes an organization that owns nothing (its owners' decision); its name becomes free again. */
  delete(principal: Principal, org: string): Promise<void>;
}

const roles: readonly Role[] = ["owner", "writer", "reader"];

export function parseRole(text: string): Role {
  const role = roles.find((r) => r === text);
  if (!role)
    throw new RegistryError(Code.InvalidArgument, `invalid role "${text}": use owner, writer or reader`);
  return role;
}

/** The stores organizations use: owners and memberships, and users to add by name. */
export type OrganizationStore = OwnerStore &
  Pick<UserStore, "getUserByName"> & {
    transaction<T>(
      fn: (
        tx: Pick<MetadataStores, "createOrganization" | "setMember" | "removeMember" | "appendAudit">,
      ) => Promise<T>,
    ): Promise<T>;
  };

type Deps = OrganizationServiceOptions & { meta: OrganizationStore };

async function getOrganization(d: Deps, name: string): Promise<Organization> {
  const org = await d.meta.getOrganization(name);
  if (org) return org;
  const owner = await d.meta.getOwner(name);
  throw new RegistryError(
    Code.NotFound,
    owner ? `${name} is a user, not an organization` : `organization ${name} does not exist`,
    { owner: name },
  );
}

async function getUser(d: Deps, name: string): Promise<User> {
  const user = await d.meta.getUserByName(name);
  if (!user) throw new RegistryError(Code.NotFound, `user ${name} does not exist: an admin creates users`);
  return user;
}

/** A change's audit event, appended in the change's transaction `tx`. */
async function appendEvent(
  d: Deps,
  tx: Pick<MetadataStores, "appendAudit">,
  principal: Principal,
  change: AuditChange,
) {
  if (d.audit) await d.audit.appendIn(tx, principal, change);
}

/** An organization always keeps one owner, or nobody could manage it again. */
async function keepAnOwner(d: Deps, org: Organization, leaving: User, orgName: string): Promise<void> {
  const owners = (await d.meta.listMembers(org.id)).filter((m) => m.role === "owner");
  if (owners.length === 1 && owners[0]?.user.id === leaving.id) {
    throw new RegistryError(
      Code.FailedPrecondition,
      `${leaving.name} is the last owner of ${orgName}: make another member owner first`,
    );
  }
}

async function createOrganization(
  d: Deps,
  ...[principal, name]: Parameters<OrganizationService["create"]>
): ReturnType<OrganizationService["create"]> {
  const user = requireUser(principal, "create organizations");
  requireUnscoped(principal.scopes, "creating organizations");
  if (user.botOf) {
    throw new RegistryError(Code.PermissionDenied, `bot ${user.name} may not create organizations`);
  }
  if (!d.allowOrgCreation && !user.isAdmin) {
    throw new RegistryError(
      Code.PermissionDenied,
      "only admins create organizations on this server (auth.allowOrgCreation is false)",
    );
  }
  const checked = checkName("organization", name);
  if (d.maxOrgsPerUser !== undefined && !user.isAdmin)
    await refusePastOwnedCap(d.meta, user, d.maxOrgsPerUser, checked);
  return d.meta.transaction(async (tx) => {
    const org = await tx.createOrganization({ name: checked, ownerUserId: user.id });
    await appendEvent(d, tx, principal, {
      action: "organization.create",
      target: `organization ${checked}`,
      owner: checked,
    });
    return org;
  });
}

async function listOrganizations(
  d: Deps,
  ...[principal]: Parameters<OrganizationService["list"]>
): ReturnType<OrganizationService["list"]> {
  const user = requireUser(principal, "list organizations");
  return d.meta.listOrganizations(user.isAdmin ? undefined : user.id);
}

async function setMember(
  d: Deps,
  ...[principal, orgName, userName, role]: Parameters<OrganizationService["setMember"]>
): ReturnType<OrganizationService["setMember"]> {
  const org = await getOrganization(d, orgName);
  requireUnscoped(principal.scopes, "managing members");
  await d.access.requireManage(principal, orgName, "manage members");
  const user = await getUser(d, userName);
  if (user.botOf && (user.botOf !== orgName || role === "owner")) {
    throw new RegistryError(
      Code.FailedPrecondition,
      `${user.name} is a bot of ${user.botOf}: a bot is a writer or reader of its own organization only`,
    );
  }
  if (role !== "owner") await keepAnOwner(d, org, user, orgName);
  const before = await d.meta.getMemberRole(orgName, user.id);
  await d.meta.transaction(async (tx) => {
    await tx.setMember(org.id, user.id, role);
    if (before === role) return;
    await appendEvent(d, tx, principal, {
      action: "member.set",
      target: `member ${user.name} of ${orgName}`,
      owner: orgName,
      before: before ? { role: before } : null,
      after: { role },
    });
  });
  return { user, role };
}

async function removeMember(
  d: Deps,
  ...[principal, orgName, userName]: Parameters<OrganizationService["removeMember"]>
): ReturnType<OrganizationService["removeMember"]> {
  const org = await getOrganization(d, orgName);
  requireUnscoped(principal.scopes, "managing members");
  await d.access.requireManage(principal, orgName, "manage members");
  const user = await getUser(d, userName);
  await keepAnOwner(d, org, user, orgName);
  const before = await d.meta.getMemberRole(orgName, user.id);
  await d.meta.transaction(async (tx) => {
    if (!(await tx.removeMember(org.id, user.id))) {
      throw new RegistryError(Code.NotFound, `user ${userName} is not a member of ${orgName}`);
    }
    await appendEvent(d, tx, principal, {
      action: "member.remove",
      target: `member ${user.name} of ${orgName}`,
      owner: orgName,
      ...(before ? { before: { role: before } } : {}),
    });
  });
}

async function deleteOrganization(
  d: Deps,
  ...[principal, orgName]: Parameters<OrganizationService["delete"]>
): ReturnType<OrganizationService["delete"]> {
  await getOrganization(d, orgName);
  await d.access.requireManage(principal, orgName, "delete organizations");
  const result = await d.meta.deleteOrganization(orgName);
  if (result === "not-empty") {
    throw new RegistryError(
      Code.FailedPrecondition,
      `organization ${orgName} still owns modules, plugins, templates or bots: only an organization that owns nothing (and never had a bot) is deleted`,
      { owner: orgName },
    );
  }
  if (result === "missing") {
    throw new RegistryError(Code.NotFound, `organization ${orgName} does not exist`, { owner: orgName });
  }
}

async function listMembers(
  d: Deps,
  ...[principal, orgName]: Parameters<OrganizationService["listMembers"]>
): ReturnType<OrganizationService["listMembers"]> {
  const org = await getOrganization(d, orgName);
  const user = requireUser(principal, "list members");
  if (!(await d.access.roleOf(principal, orgName))) {
    throw new RegistryError(
      Code.PermissionDenied,
      `user ${user.name} is not a member of ${orgName}: only members see its members`,
    );
  }
  return d.meta.listMembers(org.id);
}

export function createOrganizationService(
  meta: OrganizationStore,
  options: OrganizationServiceOptions,
): OrganizationService {
  const d: Deps = { ...options, meta };
  return {
    get: (name) => getOrganization(d, name),
    create: (principal, name) => createOrganization(d, principal, name),
    ensure: (owner, name) => ensureOrganization(d.meta, owner, name),
    list: (principal) => listOrganizations(d, principal),
    setMember: (principal, orgName, userName, role) => setMember(d, principal, orgName, userName, role),
    removeMember: (principal, orgName, userName) => removeMember(d, principal, orgName, userName),
    delete: (principal, orgName) => deleteOrganization(d, principal, orgName),
    listMembers: (principal, orgName) => listMembers(d, principal, orgName),
  };
}

/** A user who owns `max` organizations already may not create another (admins are not counted). */
async function refusePastOwnedCap(
  meta: OrganizationStore,
  user: User,
  max: number,
  name: string,
): Promise<void> {
  const memberOf = await meta.listOrganizations(user.id);
  const roles = await Promise.all(memberOf.map((o) => meta.getMemberRole(o.name, user.id)));
  const owned = roles.filter((r) => r === "owner").length;
  if (owned >= max) {
    throw new RegistryError(
      Code.ResourceExhausted,
      `${user.name} already owns ${owned} organizations; a user may own at most ${max} ` +
        "(auth.maxOrgsPerUser): ask an admin, or hand one over",
      { owner: name },
    );
  }
}

/** The organization, created with `owner` as its owner if it does not exist yet (start-up setup). */
async function ensureOrganization(meta: OrganizationStore, owner: User, name: string): Promise<Organization> {
  const found = await meta.getOrganization(name);
  if (found) return found;
  try {
    return await meta.createOrganization({ name, ownerUserId: owner.id });
  } catch (err) {
    // Another node starting at the same moment created it first.
    const created = isRegistryError(err, Code.AlreadyExists) && (await meta.getOrganization(name));
    if (created) return created;
    throw err;
  }
}
