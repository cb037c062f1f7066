// Brings cdktf's jest matcher types (registered at runtime by setup.js, on first use) into scope.
import "cdktf/lib/testing/adapters/jest";
