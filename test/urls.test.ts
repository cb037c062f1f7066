// Which addresses and URLs are refused before anything is fetched or sent: IANA's special-purpose
// registries (IPv4 and IPv6, with the IPv6 forms that embed an IPv4 address) for what a host name
// resolves to, and the rules for a URL a person writes into the config.
import { isNonPublicAddress, metadataUrlProblem } from "../model/urls";
import { parseConfig } from "../model/config";

describe("isNonPublicAddress", () => {
  it.each([
    "10.1.2.3", "127.0.0.1", "0.0.0.0", "169.254.169.254", "172.31.255.255", "192.168.1.1", "100.64.0.1",
    "192.0.0.8", "192.0.2.1", "198.18.0.1", "198.19.255.255", "198.51.100.7", "203.0.113.9", "192.88.99.1", "224.0.0.1", "240.0.0.1", "255.255.255.255",
    "::", "::1", "::127.0.0.1", "::10.0.0.1", "::ffff:127.0.0.1", "::ffff:7f00:1", "::ffff:169.254.169.254",
    "64:ff9b::7f00:1", "64:ff9b::10.0.0.1", "64:ff9b::a9fe:a9fe", "64:ff9b:1::808:808",
    "2002:a9fe:a9fe::1", "2002:7f00:1::", "2002:c0a8:101::1",
    "fc00::1", "fd12:3456::1", "fe80::1", "fe80::1%eth0", "febf::1", "fec0::1", "ff02::1", "2001:db8::1", "2001::1", "2001:2::1", "3fff::1", "100::1", "5f00::1", "[::1]",
  ])("%s is not public", (a) => expect(isNonPublicAddress(a)).toBe(true));

  it.each(["8.8.8.8", "20.190.160.1", "198.20.0.1", "192.0.3.1", "2603:1036::1", "2a01:111:f100::1", "64:ff9b::808:808", "2002:808:808::1", "::ffff:8.8.8.8"])("%s is public", (a) =>
    expect(isNonPublicAddress(a)).toBe(false),
  );
});

describe("metadataUrlProblem", () => {
  it.each([
    ["https://localhost./m.xml", /loopback|dot/],
    ["https://idp.internal./m.xml", /dot/],
    ["https://printer.local./m.xml", /dot/],
    ["https://login.microsoftonline.com./t/federationmetadata/2007-06/federationmetadata.xml", /dot/],
    ["https://metadata/computeMetadata/v1", /public host/],
    ["https://router.home.arpa/m.xml", /public host/],
    ["https://x.onion/m.xml", /public host/],
    ["https://idp.example/a b", /spaces/],
    ["https://idp.example/a\"b", /quotes/],
    ["https://idp.example/`id`", /backticks/],
    ["https://idp.example/<x>", /angle/],
    ["https://user:pass@idp.example/", /user name or password/],
    ["https://[64:ff9b::7f00:1]/", /not an IP address/],
  ])("%s is refused", (url, why) => expect(metadataUrlProblem(url)).toMatch(why));

  it("a trailing-dot host is refused at config validation already, not only at fetch time", () => {
    for (const url of ["https://localhost./m.xml", "https://idp.internal./m.xml", "https://printer.local./m.xml"]) {
      expect(() => parseConfig({ environments: [{ name: "duo", accountCode: "CEUA12A34", region: "eu", identityProvider: { type: "other", name: "duo", metadataUrl: url } }] })).toThrow(/identityProvider.metadataUrl/);
    }
  });
});

describe("logoutUrl", () => {
  const env = (logoutUrl: string) => ({ environments: [{ name: "prod-eu", tenantId: "11111111-2222-4333-8444-555555555555", notificationEmails: ["id@contoso.example"], accountCode: "CEUA12A34", region: "eu", logoutUrl }] });
  it.each(["https://idp.example/log out", 'https://idp.example/"x"', "https://idp.example/`whoami`", "https://user:pass@idp.example/logout", "http://idp.example/logout", "https://10.0.0.1/logout", "https://intranet/logout"])(
    "%s is refused",
    (url) => expect(() => parseConfig(env(url))).toThrow(/field logoutUrl/),
  );
  it("an https URL of a public host is accepted", () => expect(parseConfig(env("https://sso.contoso.example/logout")).environments[0].logoutUrl).toBe("https://sso.contoso.example/logout"));
});
