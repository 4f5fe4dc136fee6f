// Who pays for a plugin run: the accounts its plugin slots are charged to (docs/serving.md, *Plugin slots*). An
// account is a user; an organization is accounted to the users who run it, so creating organizations (or calling
// anonymously) never multiplies anyone's share.
import { ANONYMOUS } from "../generate/wrappers.js";
import type { OwnerStore, UserStore } from "../storage/meta/metadata-store.js";
import type { Principal } from "./auth.js";

/** What the payers need: owners, organization members, and whether a user is an admin. */
export type PayerStore = Pick<OwnerStore, "getOwner" | "getOrganization" | "listMembers"> &
  Pick<UserStore, "getUserByName">;

export interface Payers {
  /**
   * Everyone a run is charged to: the caller (`ANONYMOUS` for every anonymous caller together), and the accounts
   * of `owners` (the template's and the plugins' owners), sorted, each once.
   */
  of(principal: Principal, owners: readonly string[]): Promise<string[]>;
  /** The accounts an owner is charged to: a user itself; an organization its users (see createPayers). */
  accountsOf(owner: string): Promise<string[]>;
}

/**
 * Accounts, by rule:
 * - a user pays for what they own; an admin pays nothing as an owner (admin-owned plugins and templates are the
 *   registry's own: the built-ins, an admin's host plugins), though an admin pays as a caller like anyone;
 * - an organization is paid by its non-admin `owner` members, so bob and his organization `bobx` share bob's
 *   share; with none, by its non-admin `writer` members (an owner who hands the organization to an admin and
 *   stays a writer still pays); with neither, nobody (an organization only admins run, as the built-ins' are);
 * - an owner name that does not exist (yet) pays as itself.
 * Members are read through the metadata cache, so a membership change counts from the next write on.
 */
export function createPayers(store: PayerStore): Payers {
  async function accountsOf(owner: string): Promise<string[]> {
    const found = await store.getOwner(owner);
    if (!found) return [owner];
    if (found.kind === "user") {
      const user = await store.getUserByName(owner);
      return user?.isAdmin ? [] : [owner];
    }
    const org = await store.getOrganization(owner);
    if (!org) return [owner];
    const members = (await store.listMembers(org.id)).filter((m) => !m.user.isAdmin);
    const owners = members.filter((m) => m.role === "owner");
    const paying = owners.length ? owners : members.filter((m) => m.role === "writer");
    return paying.map((m) => m.user.name);
  }
  return {
    accountsOf,
    async of(principal, owners) {
      const accounts = await Promise.all([...new Set(owners)].map(accountsOf));
      const caller = principal.user?.name ?? ANONYMOUS;
      return [...new Set([caller, ...accounts.flat()])].sort();
    },
  };
}
