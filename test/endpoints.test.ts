import {
  MIMECAST_REGIONS,
  acsUrl,
  apiBaseUrl,
  apiHost,
  entraEntityId,
  entraFederationMetadataUrl,
  entraReplyUrls,
  genericEntityId,
  isAllowedMimecastHost,
  serviceProvider,
  signOnUrl,
} from "../model/endpoints";

const standard = MIMECAST_REGIONS.filter((r) => r !== "uspcom");

describe("Mimecast service-provider model", () => {
  it.each(standard)("region %s uses <region>-api.mimecast.com for every SAML URL", (region) => {
    const sp = serviceProvider(region, "CABC12D34");
    expect(sp.entraEntityId).toBe(`https://${region}-api.mimecast.com/sso/CABC12D34`);
    expect(sp.genericEntityId).toBe(`${region}-api.mimecast.com.CABC12D34`);
    expect(sp.acsUrls).toEqual({
      personalPortal: `https://${region}-api.mimecast.com/login/sso/mpp`,
      adminConsole: `https://${region}-api.mimecast.com/login/sso/adcon`,
      endUserApps: `https://${region}-api.mimecast.com/login/saml`,
    });
    expect(sp.signOnUrl).toBe(`https://${region}-api.mimecast.com/login/saml`); // Microsoft's Mimecast tutorial
    expect(sp.api1BaseUrl).toBe(`https://${region}-api.mimecast.com`);
    expect(sp.api2BaseUrl).toBe("https://api.services.mimecast.com");
  });

  it("uspcom uses its own host for entity ID, ACS, login and both API generations", () => {
    expect(apiHost("uspcom")).toBe("uspcom-api.mimecast-pscom-us.com");
    expect(entraEntityId("uspcom", "CUSP1")).toBe("https://uspcom-api.mimecast-pscom-us.com/sso/CUSP1");
    expect(genericEntityId("uspcom", "CUSP1")).toBe("uspcom-api.mimecast-pscom-us.com.CUSP1");
    expect(acsUrl("uspcom", "endUserApps")).toBe("https://uspcom-api.mimecast-pscom-us.com/login/saml");
    expect(signOnUrl("uspcom")).toBe("https://uspcom-api.mimecast-pscom-us.com/login/saml");
    expect(apiBaseUrl("uspcom", "2.0")).toBe("https://uspcom-api.mimecast-pscom-us.com");
    // API 2.0 gateways (Mimecast service update, June 2025): global, or a UK / US instance for data residency.
    expect(apiBaseUrl("eu", "2.0", "uk")).toBe("https://uk-api.services.mimecast.com");
    expect(apiBaseUrl("us", "2.0", "us")).toBe("https://us-api.services.mimecast.com");
    expect(apiBaseUrl("eu", "1.0", "uk")).toBe("https://eu-api.mimecast.com");
  });

  it("Entra reply URLs start with Microsoft's /login/saml and add each enabled application once", () => {
    expect(entraReplyUrls("eu", ["personalPortal"])).toEqual([
      "https://eu-api.mimecast.com/login/saml",
      "https://eu-api.mimecast.com/login/sso/mpp",
    ]);
    expect(entraReplyUrls("de", ["endUserApps", "adminConsole"])).toEqual([
      "https://de-api.mimecast.com/login/saml",
      "https://de-api.mimecast.com/login/sso/adcon",
    ]);
  });

  it("builds the Entra federation metadata URL in the documented form", () => {
    expect(entraFederationMetadataUrl("t-id", "c-id")).toBe(
      "https://login.microsoftonline.com/t-id/federationmetadata/2007-06/federationmetadata.xml?appid=c-id",
    );
  });

  it("allows only Mimecast hosts", () => {
    expect(isAllowedMimecastHost("eu-api.mimecast.com")).toBe(true);
    expect(isAllowedMimecastHost("api.services.mimecast.com")).toBe(true);
    expect(isAllowedMimecastHost("uspcom-api.mimecast-pscom-us.com")).toBe(true);
    expect(isAllowedMimecastHost("mimecast.com.evil.example")).toBe(false);
    expect(isAllowedMimecastHost("evilmimecast.com")).toBe(false);
  });
});
