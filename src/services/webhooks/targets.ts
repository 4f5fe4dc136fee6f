// Where webhook deliveries may go (docs/webhooks.md, "Targets"): never to loopback, link-local, private, shared,
// reserved or multicast addresses unless the admin allows them. A host name is resolved, every address it has is
// checked, and the connection goes to the checked address (`lookup` below hands it to the socket), so a name that
// resolves differently the second time (DNS rebinding) cannot reach a refused address.
import { lookup as dnsLookup } from "node:dns/promises";
import { BlockList, isIP, type LookupFunction } from "node:net";
import { Code, RegistryError } from "../../core/errors.js";

/** Ranges no delivery goes to by default, with the word an error names them by. */
const refusedRanges: readonly [string, number, "ipv4" | "ipv6", string][] = [
  ["0.0.0.0", 8, "ipv4", "an unspecified"],
  ["10.0.0.0", 8, "ipv4", "a private"],
  ["100.64.0.0", 10, "ipv4", "a shared (carrier-grade NAT)"],
  ["127.0.0.0", 8, "ipv4", "a loopback"],
  ["169.254.0.0", 16, "ipv4", "a link-local"],
  ["172.16.0.0", 12, "ipv4", "a private"],
  ["192.0.0.0", 24, "ipv4", "a reserved"],
  ["192.0.2.0", 24, "ipv4", "a documentation"],
  ["192.168.0.0", 16, "ipv4", "a private"],
  ["198.18.0.0", 15, "ipv4", "a benchmarking"],
  ["198.51.100.0", 24, "ipv4", "a documentation"],
  ["203.0.113.0", 24, "ipv4", "a documentation"],
  ["224.0.0.0", 4, "ipv4", "a multicast"],
  ["240.0.0.0", 4, "ipv4", "a reserved"],
  ["::", 128, "ipv6", "an unspecified"],
  ["::1", 128, "ipv6", "a loopback"],
  ["64:ff9b::", 96, "ipv6", "a NAT64"],
  ["100::", 64, "ipv6", "a discard"],
  ["2001:db8::", 32, "ipv6", "a documentation"],
  ["fc00::", 7, "ipv6", "a private (unique local)"],
  ["fe80::", 10, "ipv6", "a link-local"],
  ["fec0::", 10, "ipv6", "a site-local"],
  ["ff00::", 8, "ipv6", "a multicast"],
];

export interface TargetPolicyOptions {
  /** Every address is allowed (tests, a registry on a private network). */
  allowPrivateTargets: boolean;
  /** Host names, addresses or CIDR ranges allowed even though private. */
  allowedTargets: readonly string[];
  /** Resolves a host name to all its addresses (tests pass their own). */
  resolve?(host: string): Promise<{ address: string; family: number }[]>;
}

export interface TargetPolicy {
  /** Why `address` may not be a target, or undefined when it may. */
  refusal(address: string, host: string): string | undefined;
  /**
   * Checks a URL's scheme and host and resolves it: answers the addresses a delivery may connect to. Throws
   * InvalidArgument naming what to fix.
   */
  check(url: string): Promise<{ url: URL; addresses: { address: string; family: number }[] }>;
  /** For http(s).request: resolves, checks every address and connects only to a checked one. */
  lookup: LookupFunction;
}

/** `::ffff:127.0.0.1` is 127.0.0.1: an IPv4-mapped address is checked as the IPv4 address it carries. */
function unmapped(address: string): { address: string; family: "ipv4" | "ipv6" } {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1]) return { address: mapped[1], family: "ipv4" };
  return { address, family: isIP(address) === 4 ? "ipv4" : "ipv6" };
}

function allowList(entries: readonly string[]): { hosts: Set<string>; ranges: BlockList } {
  const hosts = new Set<string>();
  const ranges = new BlockList();
  for (const entry of entries) {
    const [base = "", bits] = entry.split("/");
    const family = isIP(base);
    if (family === 0) hosts.add(entry.toLowerCase());
    else if (bits === undefined) ranges.addAddress(base, family === 4 ? "ipv4" : "ipv6");
    else ranges.addSubnet(base, Number(bits), family === 4 ? "ipv4" : "ipv6");
  }
  return { hosts, ranges };
}

function badUrl(message: string): RegistryError {
  return new RegistryError(Code.InvalidArgument, message, { op: "webhook target" });
}

function parseTarget(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw badUrl(
      `webhook URL "${text.slice(0, 100)}" is not a URL: give an absolute http:// or https:// URL`,
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw badUrl(`webhook URL must be http:// or https://, not ${url.protocol}`);
  }
  if (url.username || url.password) {
    throw badUrl(
      "webhook URL must not carry a user name or password: the signature authenticates deliveries",
    );
  }
  if (text.length > 2048) throw badUrl("webhook URL is longer than 2048 characters");
  return url;
}

export function createTargetPolicy(opts: TargetPolicyOptions): TargetPolicy {
  const refused = new Map<BlockList, string>();
  for (const [base, bits, family, word] of refusedRanges) {
    const list = new BlockList();
    list.addSubnet(base, bits, family);
    refused.set(list, word);
  }
  const allowed = allowList(opts.allowedTargets);
  const resolve = opts.resolve ?? ((host: string) => dnsLookup(host, { all: true, verbatim: true }));

  const refusal = (raw: string, host: string): string | undefined => {
    if (opts.allowPrivateTargets || allowed.hosts.has(host.toLowerCase())) return undefined;
    const { address, family } = unmapped(raw);
    if (allowed.ranges.check(address, family)) return undefined;
    for (const [list, word] of refused) {
      if (list.check(address, family)) {
        return `webhook target ${host} is ${word} address (${address}): deliveries go to public addresses only, unless the admin allows it (webhooks.allowPrivateTargets, or webhooks.allowedTargets listing the host or its range)`;
      }
    }
    return undefined;
  };

  const addressesOf = async (host: string) => {
    const bare = host.startsWith("[") ? host.slice(1, -1) : host;
    const family = isIP(bare);
    const found = family !== 0 ? [{ address: bare, family }] : await resolve(bare);
    if (found.length === 0) throw badUrl(`webhook host ${host} has no address`);
    for (const { address } of found) {
      const why = refusal(address, bare);
      if (why) throw badUrl(why);
    }
    return found;
  };

  return {
    refusal,
    async check(text) {
      const url = parseTarget(text);
      const addresses = await addressesOf(url.hostname).catch((err: unknown) => {
        if (err instanceof RegistryError) throw err;
        throw badUrl(`webhook host ${url.hostname} cannot be resolved: ${(err as Error).message}`);
      });
      return { url, addresses };
    },
    lookup(hostname, options, callback) {
      addressesOf(hostname).then(
        (found) => {
          const first = found[0] as { address: string; family: number };
          if (options.all) callback(null, found);
          else callback(null, first.address, first.family);
        },
        (err: Error) => callback(err, "", 0),
      );
    },
  };
}
