// The audit log: append, list newest first, prune past the retention. No method changes an event.
import { randomBytes } from "node:crypto";
import type { Kysely } from "kysely";
import type { AuditEvent } from "../../../core/types.js";
import type { AuditFilter, AuditStore } from "../metadata-store.js";
import type { AuditEventsTable, Database } from "./schema.js";

let sequence = 0;

/**
 * An id that sorts by append time: 12 hex digits of milliseconds, 6 of a per-process sequence, 8 random (so two
 * nodes appending in the same millisecond never collide). Events of one node sort in the order it appended them.
 */
export function newAuditId(ms: number): string {
  sequence = (sequence + 1) % 0x1000000;
  return (
    ms.toString(16).padStart(12, "0") +
    sequence.toString(16).padStart(6, "0") +
    randomBytes(4).toString("hex")
  );
}

function toAuditEvent(r: AuditEventsTable): AuditEvent {
  return {
    id: r.id,
    at: r.at,
    action: r.action,
    actor: r.actor,
    ...(r.actor_id ? { actorId: r.actor_id } : {}),
    ...(r.token_id ? { tokenId: r.token_id } : {}),
    ...(r.bot === 1 ? { bot: true } : {}),
    ...(r.owner ? { owner: r.owner } : {}),
    target: r.target,
    ...(r.before_json !== null ? { before: r.before_json } : {}),
    ...(r.after_json !== null ? { after: r.after_json } : {}),
    ...(r.client_address ? { clientAddress: r.client_address } : {}),
    ...(r.user_agent ? { userAgent: r.user_agent } : {}),
    ...(r.request_id ? { requestId: r.request_id } : {}),
    count: Number(r.count),
  };
}

export function createKyselyAuditStore(db: Kysely<Database>): AuditStore {
  return {
    async appendAudit(event) {
      const row: AuditEventsTable = {
        id: newAuditId(Date.parse(event.at)),
        at: event.at,
        action: event.action,
        actor: event.actor,
        actor_id: event.actorId ?? null,
        token_id: event.tokenId ?? null,
        bot: event.bot ? 1 : 0,
        owner: event.owner ?? null,
        target: event.target,
        before_json: event.before ?? null,
        after_json: event.after ?? null,
        client_address: event.clientAddress ?? null,
        user_agent: event.userAgent ?? null,
        request_id: event.requestId ?? null,
        count: event.count,
      };
      await db.insertInto("audit_events").values(row).execute();
      return toAuditEvent(row);
    },

    async listAudit(filter: AuditFilter) {
      let q = db.selectFrom("audit_events").selectAll();
      if (filter.since) q = q.where("at", ">=", filter.since);
      if (filter.beforeId) q = q.where("id", "<", filter.beforeId);
      if (filter.actor) q = q.where("actor", "=", filter.actor);
      if (filter.owner) q = q.where("owner", "=", filter.owner);
      if (filter.action) q = q.where("action", "=", filter.action);
      const rows = await q.orderBy("id", "desc").limit(filter.limit).execute();
      return rows.map(toAuditEvent);
    },

    async pruneAudit(before: string) {
      const result = await db.deleteFrom("audit_events").where("at", "<", before).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
