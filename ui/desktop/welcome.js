// The first-run window: trust the CA (the system may ask for an
// administrator password), then open the built-in demo.
"use strict";
const { invoke } = window.__TAURI__.core;
const $ = (id) => document.getElementById(id);

function say(text, bad = false) {
  $("status").textContent = text;
  $("status").className = bad ? "status bad" : "status";
}

$("trust").onclick = async () => {
  $("trust").disabled = true;
  $("working").hidden = false;
  try {
    const lines = await invoke("trust_install");
    trustReport.render($("report"), lines);
    const info = await invoke("trust_status");
    say(info.status === "trusted"
      ? "已信任，可以打开演示了。 Trusted: open the demo."
      : "部分证书库未完成，见上。 Some stores are not done, see above.", info.status !== "trusted");
  } catch (e) {
    say(String(e), true);
  } finally {
    $("working").hidden = true;
    $("trust").disabled = false;
    // Disabling took the focus away: give it back, so Tab reaches the demo button.
    $("trust").focus();
  }
};

$("demo").onclick = async () => {
  try {
    const url = await invoke("open_demo");
    say(`已在浏览器中打开 Opened in your browser: ${url}`);
  } catch (e) {
    say(String(e), true);
  }
};

// Esc closes the window (the app stays in the tray; the dashboard's
// Certificate tab has the same buttons).
document.addEventListener("keydown", (e) => {
  if (e.key === "Escape") window.__TAURI__.window.getCurrentWindow().close();
});
