// The credential form gem and Bundler send: `gem install --source http://TOKEN@host/gems/` and
// `bundle config set host TOKEN` both send Basic base64("TOKEN:"), the token as the user name with an empty
// password. Every other registry reads the Basic password only (the user name is free text there), so this
// reading is accepted on this source's routes alone.
import { Buffer } from "node:buffer";

/** `Basic base64(TOKEN:)` becomes `Bearer TOKEN`; any other header (`user:TOKEN`, Bearer, none) is left as it is. */
export function rubygemsAuthorization(header: string | undefined): string | undefined {
  if (!header) return header;
  const m = /^basic\s+([A-Za-z0-9+/=]{1,4096})\s*$/i.exec(header);
  if (!m?.[1]) return header;
  const decoded = Buffer.from(m[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon <= 0 || colon !== decoded.length - 1) return header;
  return `Bearer ${decoded.slice(0, colon)}`;
}
