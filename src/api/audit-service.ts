// AuditService: reading the audit log (who may read what: services/audit.ts).
import type { ServiceImpl } from "@connectrpc/connect";
import type { AuditService } from "../gen/protodepot/v1/audit_pb.js";
import type { AuditTrail } from "../services/audit.js";
import { principal } from "./context.js";

export function createAuditServiceImpl(audit: Pick<AuditTrail, "list">): ServiceImpl<typeof AuditService> {
  return {
    async listAuditEvents(req, ctx) {
      const events = await audit.list(await principal(ctx), {
        since: req.since,
        actor: req.actor,
        owner: req.owner,
        action: req.action,
        before: req.before,
        // 0 (unset) means the default page, not one event.
        ...(req.limit ? { limit: req.limit } : {}),
      });
      return {
        events: events.map((e) => ({
          id: e.id,
          time: e.at,
          action: e.action,
          actor: e.actor,
          tokenId: e.tokenId ?? "",
          bot: e.bot ?? false,
          owner: e.owner ?? "",
          target: e.target,
          before: e.before ?? "",
          after: e.after ?? "",
          clientAddress: e.clientAddress ?? "",
          userAgent: e.userAgent ?? "",
          requestId: e.requestId ?? "",
          count: e.count,
        })),
      };
    },
  };
}
