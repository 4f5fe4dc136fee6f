// GET /go/{module}/@v/{version}.zip: the module zip, generated on first request and streamed from the blob store.

import { parseGoVersion } from "../../ecosystems/go/names.js";
import { immutableFor } from "../../http/cache-control.js";
import { clientGone } from "../../http/client-gone.js";
import { keepHot } from "../../http/hot-responses.js";
import type { GoproxyHandler } from "./handler.js";
import type { GoProtocol } from "./protocol.js";

export function createZipHandler(protocol: GoProtocol): GoproxyHandler<"zip"> {
  return async (request, reply, { module, version }) => {
    keepHot(reply);
    const signal = clientGone(reply);
    const zip = await protocol.zip(request.principal, module, parseGoVersion(version, module), signal);
    return reply
      .header("cache-control", immutableFor(request.principal))
      .header("etag", `"${zip.record.digest}"`)
      .header("content-type", "application/zip")
      .header("content-length", String(zip.record.size))
      .header("content-disposition", `attachment; filename="${zip.fileName}"`)
      .send(await zip.open());
  };
}
