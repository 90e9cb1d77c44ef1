// Who is at the other end: the peer's address, or, when the peer is a proxy the administrator trusts, the address
// that proxy reports in `X-Forwarded-For`. Never the header by default: any client can write it, and an attacker
// who picks their own address picks their own throttle key.
import { isIP } from "node:net";

let parsedFrom: string | undefined;
let trusted = new Set<string>();

/** The `http.trusted_proxies` setting: a JSON list of addresses, or a comma-separated one. */
function trustedSet(raw: string | undefined): Set<string> {
  if (raw !== parsedFrom) {
    parsedFrom = raw;
    let list: unknown = [];
    try {
      list = raw ? JSON.parse(raw) : [];
    } catch {
      list = raw!.split(",");
    }
    trusted = new Set((Array.isArray(list) ? list : []).filter((a): a is string => typeof a === "string").map((a) => normalise(a.trim())).filter((a) => isIP(a) !== 0));
  }
  return trusted;
}

/** IPv4 peers of a dual-stack socket arrive as `::ffff:1.2.3.4`: compare them as `1.2.3.4`. */
function normalise(address: string): string {
  return address.startsWith("::ffff:") && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/**
 * The client's address for throttling. Through trusted proxies, the right-most `X-Forwarded-For` entry that is not
 * itself a trusted proxy (entries further left were written by the client and prove nothing).
 */
export function clientAddress(req: Request, peer: string | undefined, trustedProxies: string | undefined): string | undefined {
  if (peer === undefined) return undefined;
  const from = normalise(peer);
  const proxies = trustedSet(trustedProxies);
  if (proxies.size === 0 || !proxies.has(from)) return from;
  const forwarded = req.headers.get("x-forwarded-for");
  if (!forwarded) return from;
  const hops = forwarded.split(",").map((h) => normalise(h.trim())).filter((h) => h !== "");
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]!;
    // Something that is not an address cannot be a throttle key an attacker chooses freely: stop at the last proxy.
    if (isIP(hop) === 0) return i === hops.length - 1 ? from : hops[i + 1];
    if (!proxies.has(hop)) return hop;
  }
  return hops[0] ?? from;
}
