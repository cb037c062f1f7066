// Which URLs may be fetched or called: one set of rules for the config, the command line and the
// clients, so an address the user did not mean (an internal host, a redirect target, userinfo)
// is refused before any request.
import { isIP } from "net";
import { isLoopbackHost } from "./endpoints";

/** Entra's federation metadata is served by Microsoft's login hosts only (public and sovereign clouds). */
export const ENTRA_LOGIN_HOSTS = ["login.microsoftonline.com", "login.microsoftonline.us", "login.partner.microsoftonline.cn"] as const;

/** IPv4 blocks that are not public: IANA's IPv4 Special-Purpose Address Registry, plus multicast and class E. */
const V4_NOT_PUBLIC: [number, number][] = (
  [
    ["0.0.0.0", 8], // "this network"
    ["10.0.0.0", 8], // private
    ["100.64.0.0", 10], // shared address space (carrier-grade NAT)
    ["127.0.0.0", 8], // loopback
    ["169.254.0.0", 16], // link-local (cloud metadata services)
    ["172.16.0.0", 12], // private
    ["192.0.0.0", 24], // IETF protocol assignments
    ["192.0.2.0", 24], // documentation (TEST-NET-1)
    ["192.88.99.0", 24], // 6to4 relay anycast (deprecated)
    ["192.168.0.0", 16], // private
    ["198.18.0.0", 15], // benchmarking
    ["198.51.100.0", 24], // documentation (TEST-NET-2)
    ["203.0.113.0", 24], // documentation (TEST-NET-3)
    ["224.0.0.0", 4], // multicast
    ["240.0.0.0", 4], // reserved, and the limited broadcast 255.255.255.255
  ] as const
).map(([a, bits]) => [v4Number(a), bits]);

function v4Number(a: string): number {
  return a.split(".").reduce((n, o) => n * 256 + Number(o), 0);
}

function v4NotPublic(n: number): boolean {
  return V4_NOT_PUBLIC.some(([base, bits]) => Math.floor(n / 2 ** (32 - bits)) === Math.floor(base / 2 ** (32 - bits)));
}

/** The 16 bytes of a valid IPv6 address (with "::" and a dotted IPv4 tail). */
function v6Bytes(a: string): number[] {
  let text = a;
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (tail) {
    const n = v4Number(tail[1]);
    text = `${text.slice(0, tail.index)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head, rest] = text.split("::");
  const groups = (t: string | undefined) => (t ? t.split(":").map((g) => parseInt(g, 16)) : []);
  const h = groups(head);
  const r = rest === undefined ? [] : groups(rest);
  const all = rest === undefined ? h : [...h, ...Array(8 - h.length - r.length).fill(0), ...r];
  return all.flatMap((g) => [g >> 8, g & 0xff]);
}

const v4Of = (b: number[], at: number) => ((b[at] << 24) >>> 0) + (b[at + 1] << 16) + (b[at + 2] << 8) + b[at + 3];
const zero = (b: number[], from: number, to: number) => b.slice(from, to).every((x) => x === 0);

/**
 * An IPv4 / IPv6 address that is not public: IANA's IPv4 and IPv6 special-purpose registries
 * (private, loopback, link-local, shared, documentation, benchmarking, reserved, multicast), and
 * IPv6 forms that carry an IPv4 address (mapped ::ffff:a.b.c.d, compatible ::a.b.c.d, NAT64
 * 64:ff9b::/96, 6to4 2002::/16) when that address is not public.
 */
export function isNonPublicAddress(address: string): boolean {
  const a = address.replace(/^\[|\]$/g, "").replace(/%.*$/, "").toLowerCase();
  if (isIP(a) === 4) return v4NotPublic(v4Number(a));
  if (isIP(a) !== 6) return false;
  const b = v6Bytes(a);
  const word = (i: number) => (b[2 * i] << 8) | b[2 * i + 1];
  if (zero(b, 0, 10) && word(5) === 0xffff) return v4NotPublic(v4Of(b, 12)); // IPv4-mapped
  if (zero(b, 0, 12)) return true; // ::, ::1 and the deprecated IPv4-compatible ::a.b.c.d
  if (word(0) === 0x64 && word(1) === 0xff9b) return !zero(b, 4, 12) || v4NotPublic(v4Of(b, 12)); // NAT64 (64:ff9b:1::/48 is local use)
  if (word(0) === 0x2002) return v4NotPublic(v4Of(b, 2)); // 6to4
  if (word(0) === 0x0100 && zero(b, 2, 8)) return true; // discard-only 100::/64
  if (word(0) === 0x2001 && word(1) < 0x0200) return true; // IETF protocol assignments 2001::/23 (Teredo, ORCHID, benchmarking)
  if (word(0) === 0x2001 && word(1) === 0x0db8) return true; // documentation
  if (word(0) === 0x3fff && word(1) < 0x1000) return true; // documentation 3fff::/20
  if (word(0) === 0x5f00) return true; // SRv6 SIDs
  if ((b[0] & 0xfe) === 0xfc) return true; // unique local fc00::/7
  if (b[0] === 0xfe && (b[1] & 0xc0) === 0x80) return true; // link-local fe80::/10
  if (b[0] === 0xfe && (b[1] & 0xc0) === 0xc0) return true; // site-local fec0::/10 (deprecated)
  if (b[0] === 0xff) return true; // multicast
  return false;
}

/** Domains that never name a public host: special-use names (RFC 6761, 6762, 8375, 7686) and common internal suffixes. */
const INTERNAL_SUFFIXES = ["localhost", "local", "internal", "home.arpa", "arpa", "onion", "localdomain", "lan", "intranet", "corp"];

export interface UrlRules {
  /** Whose metadata: Entra's must come from Microsoft's login hosts. */
  readonly idp?: "entra" | "other";
  /** http and loopback addresses allowed (the emulators; MIMECAST_SSO_ALLOW_LOOPBACK=1). */
  readonly allowLoopback?: boolean;
}

/** Why a metadata (or IdP) URL is refused, in words naming the rule, or undefined when it is fine. */
export function metadataUrlProblem(value: string, rules: UrlRules = {}): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "is not an absolute URL";
  }
  // The URL parser would quietly percent-encode these: a URL a person meant has none of them.
  if (/[\s"'`<>\\{}|^]/u.test(value)) return "must not contain spaces, quotes, backticks, angle brackets or backslashes";
  const host = url.hostname.toLowerCase();
  const bare = host.replace(/^\[|\]$/g, "");
  const loopback = isLoopbackHost(host) || (isIP(bare) !== 0 && /^(127\.|::1$)/.test(bare));
  if (url.username || url.password) return "must not carry a user name or password";
  if (loopback) return rules.allowLoopback ? undefined : "is a loopback address: allowed only for the emulator (MIMECAST_SSO_ALLOW_LOOPBACK=1)";
  if (url.protocol !== "https:") return "must use https";
  if (isIP(bare)) return "must name a host, not an IP address";
  // "localhost." and "printer.local." are those hosts too: a trailing dot is never needed.
  if (host.endsWith(".")) return "must not end in a dot: write the host name without it";
  if (!host.includes(".") || INTERNAL_SUFFIXES.some((s) => host === s || host.endsWith(`.${s}`))) return "must be a public host (a fully qualified name, not an internal or special-use one)";
  if (rules.idp === "entra" && !(ENTRA_LOGIN_HOSTS as readonly string[]).includes(host)) return `must be on ${ENTRA_LOGIN_HOSTS.join(", ")} (Entra's federation metadata)`;
  return undefined;
}
