// A small site logging in with passport-wechat 2.0.4, written from its README:
// `new WechatStrategy({appID, appSecret, client, callbackURL, scope, state}, verify)`,
// `passport.authenticate('wechat')` on the login route and on the callback with
// `failureRedirect`. Nothing in it names wxemu: the library's own WeChat URLs
// resolve to wxemu through /etc/hosts (hosts mode).
// Usage: node passport.cjs PORT APPID SECRET web|wechat
"use strict";
const express = require("express");
const session = require("express-session");
const passport = require("passport");
const WechatStrategy = require("passport-wechat").Strategy;

const [port, appID, appSecret, client] = process.argv.slice(2);
const origin = `http://site.test:${port}`;

passport.use(
  new WechatStrategy(
    {
      appID,
      appSecret,
      client,
      callbackURL: `${origin}/auth/wechat/callback`,
      // The website login needs snsapi_login; inside WeChat the README's default.
      scope: client === "web" ? "snsapi_login" : "snsapi_userinfo",
      state: "passport",
    },
    // The README shows (accessToken, refreshToken, profile, done); the strategy
    // (lib/strategy.js) passes expires_in before the callback.
    (accessToken, refreshToken, profile, expiresIn, done) => done(null, profile),
  ),
);
passport.serializeUser((user, done) => done(null, user));
passport.deserializeUser((user, done) => done(null, user));

const app = express();
app.use(session({ secret: "compat-site", resave: false, saveUninitialized: false }));
app.use(passport.initialize());
app.use(passport.session());

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

app.get("/", (req, res) => {
  res.type("html").send(`<!doctype html><meta charset="utf-8"><title>passport-wechat site</title>
<a id="login" href="/auth/wechat">Log in with WeChat</a>`);
});
app.get("/auth/wechat", passport.authenticate("wechat"));
app.get(
  "/auth/wechat/callback",
  passport.authenticate("wechat", { failureRedirect: "/auth/fail", successReturnToOrRedirect: "/profile" }),
);
app.get("/auth/fail", (req, res) => {
  res.status(401).type("html").send(`<!doctype html><meta charset="utf-8"><title>Login failed</title>
<p id="failed">WeChat login was not completed.</p>`);
});
app.get("/profile", (req, res) => {
  if (!req.user) return res.status(401).type("html").send(`<p id="anonymous">Not logged in</p>`);
  res.type("html").send(`<!doctype html><meta charset="utf-8"><title>Profile</title>
<p>Logged in as <span id="nickname">${escape(req.user.nickname)}</span>
(openid <span id="openid">${escape(req.user.openid)}</span>)</p>`);
});

app.listen(Number(port), "127.0.0.1");
