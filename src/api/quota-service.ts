// QuotaService: reading and (admins) setting an owner's quotas (the rules: services/quotas.ts).
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import type { QuotaSchema, QuotaService } from "../gen/protodepot/v1/quota_pb.js";
import type { QuotaReport, Quotas } from "../services/quotas.js";
import { principal } from "./context.js";

export function createQuotaServiceImpl(
  quotas: Pick<Quotas, "get" | "set">,
): ServiceImpl<typeof QuotaService> {
  return {
    async getQuota(req, ctx) {
      return { quota: toQuota(await quotas.get(await principal(ctx), req.owner)) };
    },
    async setQuota(req, ctx) {
      const report = await quotas.set(await principal(ctx), req.owner, {
        modules: req.modules ?? null,
        commitsPerDay: req.commitsPerDay ?? null,
        imageBytes: req.imageBytes === undefined ? null : Number(req.imageBytes),
        images: req.images ?? null,
      });
      return { quota: toQuota(report) };
    },
  };
}

function toQuota(r: QuotaReport): MessageInitShape<typeof QuotaSchema> {
  return {
    owner: r.owner,
    modules: { ...r.modules },
    commitsPerDay: { ...r.commitsPerDay },
    imageBytes: { ...r.imageBytes, limit: BigInt(r.imageBytes.limit), used: BigInt(r.imageBytes.used) },
    images: { ...r.images },
  };
}
