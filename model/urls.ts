// Which URLs may be fetched or called: one set of rules for the config, the command line and the
// clients, so an address the user did not mean (an internal host, a redirect target, userinfo)
// is refused before any request.
import { isIP } from "net";
import { isLoopbackHost } from "./endpoints";

/** Entra's federation metadata is served by Microsoft's login hosts only (public and sovereign clouds). */
export const ENTRA_LOGIN_HOSTS = ["login.microsoftonline.com", "login.microsoftonline.us", "login.partner.microsoftonline.cn"] as const;

/** An IPv4 / IPv6 address that is private, loopback, link-local, unspecified or otherwise not public. */
export function isNonPublicAddress(address: string): boolean {
  const a = address.replace(/^\[|\]$/g, "").toLowerCase();
  if (isIP(a) === 4) {
    const [x, y] = a.split(".").map(Number);
    return x === 10 || x === 127 || x === 0 || (x === 169 && y === 254) || (x === 172 && y >= 16 && y <= 31) || (x === 192 && y === 168) || (x === 100 && y >= 64 && y <= 127) || x >= 224;
  }
  if (isIP(a) === 6) {
    if (a === "::1" || a === "::") return true;
    if (a.startsWith("fe8") || a.startsWith("fe9") || a.startsWith("fea") || a.startsWith("feb")) return true; // link-local
    if (a.startsWith("fc") || a.startsWith("fd")) return true; // unique local
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
    return mapped ? isNonPublicAddress(mapped[1]) : false;
  }
  return false;
}

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
  const host = url.hostname.toLowerCase();
  const loopback = isLoopbackHost(host) || (isIP(host.replace(/^\[|\]$/g, "")) !== 0 && /^(127\.|\[?::1\]?$)/.test(host));
  if (url.username || url.password) return "must not carry a user name or password";
  if (loopback) return rules.allowLoopback ? undefined : "is a loopback address: allowed only for the emulator (MIMECAST_SSO_ALLOW_LOOPBACK=1)";
  if (url.protocol !== "https:") return "must use https";
  if (isIP(host.replace(/^\[|\]$/g, ""))) return "must name a host, not an IP address";
  if (host === "localhost" || host.endsWith(".localhost") || host.endsWith(".local") || host.endsWith(".internal")) return "must be a public host";
  if (rules.idp === "entra" && !(ENTRA_LOGIN_HOSTS as readonly string[]).includes(host)) return `must be on ${ENTRA_LOGIN_HOSTS.join(", ")} (Entra's federation metadata)`;
  return undefined;
}
