const fs = require("fs");

module.exports = async () => {
  const root = process.env.MIMECAST_SSO_TEST_TMP;
  if (root) fs.rmSync(root, { recursive: true, force: true });
};
