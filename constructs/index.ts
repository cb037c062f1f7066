// The constructs a library user composes. The pure model (config, endpoints, sync spec) is in model/.
export * from "./entra-app";
export * from "./stack";
export * from "./profile-sync";
export * from "./certificate-activation";
export * from "./default-redirect";
export * from "./cli-bundle";
export * from "./terraform-data";
