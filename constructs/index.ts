export * from "./endpoints";
export * from "./config";
export * from "./entra-app";
export * from "./stack";
export * from "./profile-sync";
export * from "./sync-spec";
export * from "./certificate-activation";
export * from "./cli-asset";
