// HEAD/GET /gems/: `gem install` probes the source URL itself and uses the compact index only on a 2xx (any error,
// a 401 too, sends it to the legacy index this source does not serve), so the root answers everyone.
import type { FastifyReply, FastifyRequest } from "fastify";

const body =
  "protodepot RubyGems source: compact index at versions, info/{name} and names; gems are named " +
  "{templateOwner}_{templateName}_{moduleOwner}_{moduleName}\n";

export function createRootHandler() {
  return async (_request: FastifyRequest, reply: FastifyReply) =>
    reply.header("cache-control", "no-cache").type("text/plain; charset=utf-8").send(body);
}
