// Organizations and their members. Users and organizations share one owner namespace (the store enforces it).
import { Code, isRegistryError, RegistryError } from "../core/errors.js";
import { checkName } from "../core/names.js";
import type { Member, Organization, Role, User } from "../core/types.js";
import type { OwnerStore, UserStore } from "../storage/meta/metadata-store.js";
import type { AccessPolicy } from "./access.js";
import { type Principal, requireUser } from "./auth.js";

export interface OrganizationServiceOptions {
  access: AccessPolicy;
  /** False: only admins create organizations (config auth.allowOrgCreation). */
  allowOrgCreation: boolean;
  /**
   * Organizations a non-admin user may own (config auth.maxOrgsPerUser); unlimited without it. Creating one is
   * refused at the cap, so names cannot be hoarded (plugin slots count an organization with its owners anyway).
   */
  maxOrgsPerUser?: number | undefined;
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
export type OrganizationStore = OwnerStore & Pick<UserStore, "getUserByName">;

export function createOrganizationService(
  meta: OrganizationStore,
  { access, allowOrgCreation, maxOrgsPerUser }: OrganizationServiceOptions,
): OrganizationService {
  async function getOrganization(name: string): Promise<Organization> {
    const org = await meta.getOrganization(name);
    if (org) return org;
    const owner = await meta.getOwner(name);
    throw new RegistryError(
      Code.NotFound,
      owner ? `${name} is a user, not an organization` : `organization ${name} does not exist`,
      { owner: name },
    );
  }

  async function getUser(name: string): Promise<User> {
    const user = await meta.getUserByName(name);
    if (!user) throw new RegistryError(Code.NotFound, `user ${name} does not exist: an admin creates users`);
    return user;
  }

  return {
    get: getOrganization,

    async create(principal, name) {
      const user = requireUser(principal, "create organizations");
      if (!allowOrgCreation && !user.isAdmin) {
        throw new RegistryError(
          Code.PermissionDenied,
          "only admins create organizations on this server (auth.allowOrgCreation is false)",
        );
      }
      const checked = checkName("organization", name);
      if (maxOrgsPerUser !== undefined && !user.isAdmin)
        await refusePastOwnedCap(meta, user, maxOrgsPerUser, checked);
      return meta.createOrganization({ name: checked, ownerUserId: user.id });
    },

    ensure: (owner, name) => ensureOrganization(meta, owner, name),

    async list(principal) {
      const user = requireUser(principal, "list organizations");
      return meta.listOrganizations(user.isAdmin ? undefined : user.id);
    },

    async setMember(principal, orgName, userName, role) {
      const org = await getOrganization(orgName);
      await access.requireManage(principal, orgName, "manage members");
      const user = await getUser(userName);
      if (role !== "owner") await keepAnOwner(org, user, orgName);
      await meta.setMember(org.id, user.id, role);
      return { user, role };
    },

    async removeMember(principal, orgName, userName) {
      const org = await getOrganization(orgName);
      await access.requireManage(principal, orgName, "manage members");
      const user = await getUser(userName);
      await keepAnOwner(org, user, orgName);
      if (!(await meta.removeMember(org.id, user.id))) {
        throw new RegistryError(Code.NotFound, `user ${userName} is not a member of ${orgName}`);
      }
    },

    async delete(principal, orgName) {
      await getOrganization(orgName);
      await access.requireManage(principal, orgName, "delete organizations");
      const result = await meta.deleteOrganization(orgName);
      if (result === "not-empty") {
        throw new RegistryError(
          Code.FailedPrecondition,
          `organization ${orgName} still owns modules, plugins or templates: only an organization that owns nothing is deleted`,
          { owner: orgName },
        );
      }
      if (result === "missing") {
        throw new RegistryError(Code.NotFound, `organization ${orgName} does not exist`, { owner: orgName });
      }
    },

    async listMembers(principal, orgName) {
      const org = await getOrganization(orgName);
      const user = requireUser(principal, "list members");
      if (!(await access.roleOf(principal, orgName))) {
        throw new RegistryError(
          Code.PermissionDenied,
          `user ${user.name} is not a member of ${orgName}: only members see its members`,
        );
      }
      return meta.listMembers(org.id);
    },
  };

  /** An organization always keeps one owner, or nobody could manage it again. */
  async function keepAnOwner(org: Organization, leaving: User, orgName: string): Promise<void> {
    const owners = (await meta.listMembers(org.id)).filter((m) => m.role === "owner");
    if (owners.length === 1 && owners[0]?.user.id === leaving.id) {
      throw new RegistryError(
        Code.FailedPrecondition,
        `${leaving.name} is the last owner of ${orgName}: make another member owner first`,
      );
    }
  }
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
