// Shared by the welcome window and the dashboard's Certificate tab: one
// line per trust store, as `wxemu trust` reports it (done / already /
// skipped why / failed why; trusted / missing for a status).
"use strict";
window.trustReport = {
  WORDS: {
    done: "完成 done", already: "已存在 already", skipped: "跳过 skipped", failed: "失败 failed",
    trusted: "已信任 trusted", missing: "未信任 missing",
  },
  render(list, lines) {
    list.replaceChildren(...lines.map((line) => {
      const li = document.createElement("li");
      li.className = `line ${line.outcome}`;
      li.dataset.outcome = line.outcome;
      const word = document.createElement("b");
      word.textContent = this.WORDS[line.outcome] || line.outcome;
      const store = document.createElement("span");
      store.className = "store";
      store.textContent = line.store;
      li.append(word, " ", store);
      if (line.detail) {
        const detail = document.createElement("span");
        detail.className = "detail";
        detail.textContent = `: ${line.detail}`;
        li.append(detail);
      }
      return li;
    }));
    list.hidden = lines.length === 0;
  },
};
