// A small site logging in with Auth.js (@auth/express 0.12.3, @auth/core 0.41.3)
// and its WeChat provider, written from @auth/express's README: `ExpressAuth`
// mounted on "/auth/*", `getSession` for the profile, Auth.js's own sign-in page
// (the csrfToken form). Nothing in it names wxemu: the provider's WeChat URLs
// resolve to wxemu through /etc/hosts (hosts mode).
// Usage: node authjs.js PORT APPID SECRET WebsiteApp|OfficialAccount [pkce]
// `pkce`: the provider's `checks` overridden to ["pkce"] (Auth.js's documented
// provider override): no `state` is sent, so oauth2/authorize's 128-byte limit
// is not hit by Auth.js's ~435-byte encrypted state.
import express from "express";
import { ExpressAuth, getSession } from "@auth/express";
import WeChat from "@auth/express/providers/wechat";

const [port, clientId, clientSecret, platformType, checks] = process.argv.slice(2);

const authConfig = {
  providers: [WeChat({ clientId, clientSecret, platformType, ...(checks === "pkce" ? { checks: ["pkce"] } : {}) })],
  secret: "compat-site-auth-secret-0123456789abcdef",
  trustHost: true,
  // A site's own error page (the README's `pages` option) instead of Auth.js's.
  pages: { error: "/auth-error" },
};

const app = express();
app.set("trust proxy", true);
app.use("/auth/*", ExpressAuth(authConfig));

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

app.get("/", (req, res) => {
  res.type("html").send(`<!doctype html><meta charset="utf-8"><title>Auth.js site</title>
<a id="login" href="/auth/signin">Sign in</a>`);
});
app.get("/profile", async (req, res, next) => {
  try {
    const session = await getSession(req, authConfig);
    if (!session?.user) return res.status(401).type("html").send(`<p id="anonymous">Not logged in</p>`);
    res.type("html").send(`<!doctype html><meta charset="utf-8"><title>Profile</title>
<p>Signed in as <span id="nickname">${escape(session.user.name)}</span></p>`);
  } catch (e) {
    next(e);
  }
});
app.get("/auth-error", (req, res) => {
  res.status(401).type("html").send(`<!doctype html><meta charset="utf-8"><title>Sign-in failed</title>
<p id="failed">WeChat sign-in failed: <span id="error">${escape(req.query.error ?? "")}</span></p>`);
});

app.listen(Number(port), "127.0.0.1");
