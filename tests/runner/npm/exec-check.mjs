// Run by `wxemu exec -- node exec-check.mjs STATUS`: reaches the wxemu that
// exec started with nothing but its WXEMU_* variables (Node's own https,
// trusting WXEMU_CA only), then exits with STATUS.
import https from "node:https";
import { readFileSync } from "node:fs";

for (const name of ["WXEMU_URL", "WXEMU_PORT", "WXEMU_CA", "WXEMU_INTERCEPT_CA", "WXEMU_PROXY", "WXEMU_PAC_URL", "WXEMU_TOKEN", "WXEMU_DATA_DIR"]) {
  if (!process.env[name]) throw new Error(`${name} is not set`);
}
const url = new URL("/__wxemu/client", process.env.WXEMU_URL);
const client = await new Promise((resolve, reject) => {
  https
    .get(url, {
      hostname: "127.0.0.1", // no DNS: the name is only the certificate's
      servername: url.hostname,
      headers: { host: url.host, authorization: `Bearer ${process.env.WXEMU_TOKEN}` },
      ca: readFileSync(process.env.WXEMU_CA),
    }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => (res.statusCode === 200 ? resolve(JSON.parse(body)) : reject(new Error(`${res.statusCode} ${body}`))));
    })
    .on("error", reject);
});
if (client.state !== "logged_in") throw new Error(`unexpected client ${JSON.stringify(client)}`);
// What a Cypress config does under `wxemu exec`: Chromium flags from the variables.
const { chromiumArgs } = await import("wxemu");
const args = chromiumArgs();
if (!args.includes(`--proxy-server=${process.env.WXEMU_PROXY}`) || !args.some((a) => /^--ignore-certificate-errors-spki-list=[^,]{44},[^,]{44}$/.test(a))) {
  throw new Error(`chromiumArgs() from the environment: ${args}`);
}
console.log(`exec-check: wxemu at ${process.env.WXEMU_URL} answers; exiting ${process.argv[2]}`);
process.exit(Number(process.argv[2] ?? 0));
