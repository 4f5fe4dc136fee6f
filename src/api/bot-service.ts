// BotService: an organization's bots (the rules: services/bots.ts).
import type { ServiceImpl } from "@connectrpc/connect";
import type { BotService } from "../gen/protodepot/v1/bot_pb.js";
import type { BotService as Bots } from "../services/bots.js";
import { parseRole } from "../services/organizations.js";
import { principal } from "./context.js";
import { userMessage } from "./convert.js";

export function createBotServiceImpl(bots: Bots): ServiceImpl<typeof BotService> {
  return {
    async createBot(req, ctx) {
      const role = parseRole(req.role || "writer");
      const bot = await bots.create(await principal(ctx), req.organization, req.name, role);
      return { bot: { user: userMessage(bot.user), role: bot.role } };
    },
    async listBots(req, ctx) {
      const list = await bots.list(await principal(ctx), req.organization);
      return { bots: list.map((b) => ({ user: userMessage(b.user), role: b.role })) };
    },
    async deleteBot(req, ctx) {
      await bots.delete(await principal(ctx), req.organization, req.name);
      return {};
    },
  };
}
