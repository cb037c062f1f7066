export * from "./endpoints";
export * from "./config";
export * from "./entra-app";
export * from "./stack";
