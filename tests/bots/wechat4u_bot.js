// A Web WeChat bot written with wechat4u (the engine of
// wechaty-puppet-wechat4u), the way its users write one, run by
// tests/bots/bots.test.js against wxemu.
//
// wechat4u builds every URL in `getCONF(host)` (lib/util/conf.js): from
// wx.qq.com at first, then from the host of the login poll's redirect_uri,
// dropping its port and mapping the host onto fixed login./webpush./file.
// names. That function is its base-URL knob: this bot replaces it with one
// that keeps wechat4u's CONF and points every URL at WXEMU_URL. Node trusts
// wxemu's CA through NODE_EXTRA_CA_CERTS. Without WXEMU_URL nothing is
// replaced (the bot runs unmodified through wxemu's interception proxy).
//
// Protocol with the test: one JSON object per stdout line, as itchat_bot.py.
"use strict";

const conf = require("wechat4u/lib/util/conf");

// Without WXEMU_URL the bot is unmodified: the real hosts, which wxemu plays
// through its interception proxy (HTTPS_PROXY; axios CONNECTs through it).
const WXEMU_URL = process.env.WXEMU_URL ? new URL(process.env.WXEMU_URL) : null;
const originalGetCONF = conf.getCONF;
if (WXEMU_URL) conf.getCONF = function getCONF(host) {
  const c = originalGetCONF(host);
  for (const [key, value] of Object.entries(c)) {
    if (typeof value === "string" && /^https:\/\//.test(value)) {
      const url = new URL(value);
      url.protocol = WXEMU_URL.protocol;
      url.host = WXEMU_URL.host;
      // jslogin's redirect_uri parameter stays as the library sends it.
      c[key] = url.toString();
    }
  }
  return c;
};

const Wechat = require("wechat4u");

function emit(event, fields = {}) {
  process.stdout.write(JSON.stringify({ event, ...fields }) + "\n");
}

const bot = new Wechat();
let loggedIn = false;
let sentToFilehelper = false;

bot.on("uuid", (uuid) => emit("uuid", { uuid }));
bot.on("user-avatar", (avatar) => emit("scanned", { avatar_prefix: avatar.slice(0, 22) }));
bot.on("login", () => {
  loggedIn = true;
  emit("login", { username: bot.user.UserName, nickname: bot.user.NickName });
});
bot.on("error", (err) => emit("error", { error: String((err && err.tips) || ""), detail: String(err && err.message) }));
bot.on("logout", () => {
  emit("logout", { logged_in_before: loggedIn });
  // wechat4u keeps no timers after stop(); leave nothing to chance.
  setTimeout(() => process.exit(0), 200);
});

// webwxgetcontact runs in the background after login; report the contact
// list once it has friends, then talk to filehelper.
bot.on("contacts-updated", () => {
  if (sentToFilehelper || !loggedIn) return;
  const contacts = Object.values(bot.contacts);
  const friends = contacts.filter(
    (c) => !bot.Contact.isRoomContact(c) && !bot.Contact.isSpContact(c) && !bot.Contact.isPublicContact(c) && !c.isSelf,
  );
  if (friends.length === 0) return;
  sentToFilehelper = true;
  const groups = contacts.filter((c) => bot.Contact.isRoomContact(c));
  emit("contacts", {
    friends: friends.map((c) => c.NickName),
    groups: groups.map((c) => c.NickName),
    group_members: groups.map((c) => c.MemberList.length),
    mps: contacts.filter((c) => bot.Contact.isPublicContact(c)).map((c) => c.NickName),
  });
  bot
    .sendMsg("hello from wechat4u", "filehelper")
    .then((res) => emit("sent", { to_user: "filehelper", text: "hello from wechat4u", ret: res.BaseResponse.Ret, msg_id: res.MsgID }))
    .catch((err) => emit("error", { error: "send to filehelper failed", detail: String(err) }));
});

bot.on("message", (msg) => {
  if (msg.MsgType !== bot.CONF.MSGTYPE_TEXT || msg.isSendBySelf) return;
  const sender = bot.contacts[msg.FromUserName];
  emit("received", {
    from_user: msg.FromUserName,
    to_user: msg.ToUserName,
    text: msg.Content,
    sender_nickname: sender ? sender.NickName : "",
  });
  if (!msg.Content.startsWith("ping ")) return;
  const answer = "pong " + msg.Content.slice("ping ".length);
  bot
    .sendMsg(answer, msg.FromUserName)
    .then((res) => {
      emit("answered", { to_user: msg.FromUserName, text: answer, ret: res.BaseResponse.Ret, msg_id: res.MsgID });
      bot.stop();
    })
    .catch((err) => emit("error", { error: "answer failed", detail: String(err) }));
});

bot.start();
