/* PersonalPod's behaviour in the browser: small, dependency-free, and only progressive
   enhancement (every page works without it). No inline handlers: the CSP forbids them, so
   everything is wired here from data-* attributes, once at load and again after htmx swaps. */
(function () {
  "use strict";

  function isTyping(target) {
    if (!target || !target.closest) return false;
    return !!target.closest("input, textarea, select, [contenteditable=''], [contenteditable='true']");
  }

  function announce(button, text) {
    const live = document.getElementById("live");
    if (live) live.textContent = text;
    const label = button.querySelector(".label");
    if (!label) return;
    if (!button.dataset.original) button.dataset.original = label.textContent;
    label.textContent = text;
    window.setTimeout(function () { label.textContent = button.dataset.original; }, 1600);
  }

  function copyText(text, button) {
    if (!navigator.clipboard) return;
    navigator.clipboard.writeText(text).then(function () {
      if (button) announce(button, "Copied");
    });
  }

  /* ---- things that need wiring inside newly arrived HTML ------------------------------ */
  function setup(root) {
    root.querySelectorAll("[data-color]").forEach(function (el) {
      if (/^#[0-9a-fA-F]{6}$/.test(el.dataset.color)) el.style.setProperty("--item-color", el.dataset.color);
    });
    root.querySelectorAll("[data-fill]").forEach(function (el) {
      const fill = Math.max(0, Math.min(100, parseFloat(el.dataset.fill) || 0));
      el.style.setProperty("--fill", fill + "%");
    });
    root.querySelectorAll("[data-autocopy]").forEach(function (el) {
      el.removeAttribute("data-autocopy");
      const holder = el.closest(".secret, .totp");
      const button = holder && holder.querySelector("[data-copy], [data-copy-from]");
      copyText(el.textContent.trim(), button);
    });
    root.querySelectorAll("[data-countdown]").forEach(startCountdown);
    if (root.querySelector && root.querySelector("[data-autofocus]")) {
      root.querySelector("[data-autofocus]").focus();
    }
    if (root === document) {
      const sidebar = document.querySelector("details.sidebar");
      if (sidebar && window.matchMedia("(min-width: 821px)").matches) sidebar.open = true;
    }
    updateBulk();
  }

  function startCountdown(el) {
    if (el.dataset.running) return;
    el.dataset.running = "1";
    let left = parseInt(el.dataset.countdown, 10) || 0;
    const output = el.querySelector(".seconds") || el;
    const timer = window.setInterval(function () {
      left -= 1;
      if (!document.body.contains(el)) { window.clearInterval(timer); return; }
      if (left <= 0) {
        window.clearInterval(timer);
        el.dispatchEvent(new CustomEvent("expired", { bubbles: true }));
        const holder = el.closest("[data-expire-text]");
        if (holder) holder.querySelector(".code").textContent = holder.dataset.expireText;
        output.textContent = "0";
        return;
      }
      output.textContent = String(left);
    }, 1000);
  }

  /* ---- clicks --------------------------------------------------------------------------- */
  document.addEventListener("click", function (event) {
    const copy = event.target.closest("[data-copy], [data-copy-from]");
    if (copy) {
      event.preventDefault();
      let text = copy.dataset.copy;
      if (copy.dataset.copyFrom) {
        const source = document.querySelector(copy.dataset.copyFrom);
        text = source ? (source.value !== undefined ? source.value : source.textContent) : "";
      }
      if (text) copyText(text.trim(), copy);
      return;
    }
    const toggle = event.target.closest("[data-toggle-secret]");
    if (toggle) {
      const input = document.querySelector(toggle.dataset.toggleSecret);
      if (input) {
        const show = input.type === "password";
        input.type = show ? "text" : "password";
        toggle.setAttribute("aria-pressed", show ? "true" : "false");
        toggle.setAttribute("aria-label", show ? "Hide" : "Show");
      }
      return;
    }
    const opener = event.target.closest("[data-dialog-open]");
    if (opener) {
      const dialog = document.querySelector(opener.dataset.dialogOpen);
      if (dialog && !dialog.open) dialog.showModal();
      const menu = opener.closest("details.menu");
      if (menu) menu.open = false;
      return;
    }
    const closer = event.target.closest("[data-dialog-close]");
    if (closer) {
      const dialog = closer.closest("dialog");
      if (dialog) dialog.close();
      return;
    }
    const add = event.target.closest("[data-add-row]");
    if (add) {
      const list = document.querySelector(add.dataset.addRow);
      const template = list && list.querySelector("template");
      if (template) {
        const row = template.content.firstElementChild.cloneNode(true);
        list.insertBefore(row, template);
        const input = row.querySelector("input");
        if (input) input.focus();
      }
      return;
    }
    const remove = event.target.closest("[data-remove-row]");
    if (remove) {
      const row = remove.closest(".repeat-row");
      const list = row && row.parentElement;
      if (row) row.remove();
      if (list) { const next = list.querySelector("input"); if (next) next.focus(); }
      return;
    }
    const tab = event.target.closest(".md-editor [role=tab]");
    if (tab) { selectTab(tab); return; }
    const md = event.target.closest("[data-md]");
    if (md) { markdownAction(md); return; }
    // A click outside the search box closes its results; outside a menu closes it.
    if (!event.target.closest(".search")) closeSearch();
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.open = false;
    });
  });

  document.addEventListener("submit", function (event) {
    const message = event.target.dataset && event.target.dataset.confirm;
    if (message && !window.confirm(message)) event.preventDefault();
  });

  /* ---- the search popover ------------------------------------------------------------------ */
  function closeSearch() {
    const popover = document.getElementById("search-popover");
    if (popover) popover.innerHTML = "";
  }

  document.addEventListener("keydown", function (event) {
    const popover = document.getElementById("search-popover");
    const search = document.getElementById("site-search");
    if (popover && popover.children.length && event.target.closest && event.target.closest(".search")) {
      const hits = Array.from(popover.querySelectorAll("a"));
      const index = hits.indexOf(document.activeElement);
      if (event.key === "ArrowDown") {
        event.preventDefault();
        (hits[index + 1] || hits[0]).focus();
        return;
      }
      if (event.key === "ArrowUp") {
        event.preventDefault();
        if (index <= 0) search.focus(); else hits[index - 1].focus();
        return;
      }
      if (event.key === "Escape") {
        event.preventDefault();
        closeSearch();
        search.focus();
        return;
      }
    }
    if ((event.ctrlKey || event.metaKey) && event.key === "Enter") {
      const form = event.target.closest && event.target.closest("form");
      if (form && form.method.toLowerCase() === "post") {
        event.preventDefault();
        form.requestSubmit();
      }
      return;
    }
    if ((event.ctrlKey || event.metaKey) && event.target.matches && event.target.matches(".md-editor textarea")) {
      const action = { b: "bold", i: "italic", k: "link" }[event.key.toLowerCase()];
      if (action) {
        event.preventDefault();
        markdownAction(event.target.closest(".md-editor").querySelector('[data-md="' + action + '"]'));
      }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) return;
    if (document.querySelector("dialog[open]")) return;
    shortcut(event, search);
  });

  let pendingG = false;
  function shortcut(event, search) {
    const key = event.key;
    if (pendingG) {
      pendingG = false;
      const targets = { h: "/", e: "/entries/", t: "/trash/" };
      if (targets[key]) { event.preventDefault(); window.location.href = targets[key]; }
      return;
    }
    if (key === "/" && search) {
      event.preventDefault();
      search.focus();
      search.select();
    } else if (key === "n" && document.body.dataset.newUrl) {
      event.preventDefault();
      window.location.href = document.body.dataset.newUrl;
    } else if (key === "e") {
      const edit = document.querySelector("[data-shortcut-edit]");
      if (edit) { event.preventDefault(); window.location.href = edit.href; }
    } else if (key === "g") {
      pendingG = true;
      window.setTimeout(function () { pendingG = false; }, 1200);
    } else if (key === "?") {
      const dialog = document.getElementById("shortcuts");
      if (dialog) { event.preventDefault(); dialog.showModal(); }
    }
  }

  /* ---- markdown editor --------------------------------------------------------------------- */
  function selectTab(tab) {
    const editor = tab.closest(".md-editor");
    editor.querySelectorAll("[role=tab]").forEach(function (other) {
      const selected = other === tab;
      other.setAttribute("aria-selected", selected ? "true" : "false");
      const panel = document.getElementById(other.getAttribute("aria-controls"));
      if (panel) panel.hidden = !selected;
    });
    editor.querySelectorAll("[data-md]").forEach(function (button) {
      button.disabled = tab.dataset.tab === "preview";
    });
    if (tab.dataset.tab === "write") editor.querySelector("textarea").focus();
  }

  const WRAP = { bold: ["**", "**"], italic: ["_", "_"], code: ["`", "`"], link: ["[", "](https://)"] };
  const LINE = { heading: "## ", list: "- ", numbered: "1. ", quote: "> ", check: "- [ ] " };

  function markdownAction(button) {
    if (!button) return;
    const textarea = button.closest(".md-editor").querySelector("textarea");
    const start = textarea.selectionStart;
    const end = textarea.selectionEnd;
    const value = textarea.value;
    const action = button.dataset.md;
    let text;
    let cursorStart;
    let cursorEnd;
    if (WRAP[action]) {
      const pair = WRAP[action];
      const chosen = value.slice(start, end) || (action === "link" ? "text" : action);
      text = pair[0] + chosen + pair[1];
      cursorStart = start + pair[0].length;
      cursorEnd = cursorStart + chosen.length;
      textarea.setRangeText(text, start, end, "end");
    } else if (LINE[action]) {
      const lineStart = value.lastIndexOf("\n", start - 1) + 1;
      const block = value.slice(lineStart, end);
      text = block.split("\n").map(function (line) { return LINE[action] + line; }).join("\n");
      textarea.setRangeText(text, lineStart, end, "end");
      cursorStart = cursorEnd = lineStart + text.length;
    } else {
      return;
    }
    textarea.focus();
    textarea.setSelectionRange(cursorStart, cursorEnd);
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  }

  /* ---- selecting entries for bulk actions ------------------------------------------------- */
  let lastChecked = null;
  function boxes() { return Array.from(document.querySelectorAll("input[data-select-entry]")); }

  function updateBulk() {
    const bar = document.getElementById("bulk-form");
    if (!bar) return;
    const chosen = boxes().filter(function (box) { return box.checked; });
    bar.hidden = chosen.length === 0;
    const count = bar.querySelector(".selected-count");
    if (count) count.textContent = chosen.length === 1 ? "1 selected" : chosen.length + " selected";
    const all = document.getElementById("select-all");
    if (all) {
      const total = boxes().length;
      all.checked = total > 0 && chosen.length === total;
      all.indeterminate = chosen.length > 0 && chosen.length < total;
    }
  }

  document.addEventListener("click", function (event) {
    const box = event.target.closest("input[data-select-entry]");
    if (!box) return;
    if (event.shiftKey && lastChecked && lastChecked !== box) {
      const list = boxes();
      const [from, to] = [list.indexOf(lastChecked), list.indexOf(box)].sort(function (a, b) { return a - b; });
      list.slice(from, to + 1).forEach(function (other) { other.checked = box.checked; });
    }
    lastChecked = box;
  });

  document.addEventListener("change", function (event) {
    if (event.target.id === "select-all") {
      boxes().forEach(function (box) { box.checked = event.target.checked; });
    }
    if (event.target.id === "select-all" || event.target.matches("input[data-select-entry]")) updateBulk();
    if (event.target.matches("select[data-bulk-action]")) {
      const bar = event.target.closest("form");
      bar.querySelectorAll("[data-for-action]").forEach(function (el) {
        el.hidden = el.dataset.forAction.split(" ").indexOf(event.target.value) === -1;
      });
    }
    if (event.target.matches("select[data-autosubmit], input[data-autosubmit]")) {
      event.target.form.requestSubmit();
    }
  });

  /* ---- file uploads: drag and drop, progress ------------------------------------------------ */
  document.addEventListener("dragover", function (event) {
    const zone = event.target.closest && event.target.closest(".dropzone");
    if (!zone) return;
    event.preventDefault();
    zone.classList.add("dragging");
  });
  document.addEventListener("dragleave", function (event) {
    const zone = event.target.closest && event.target.closest(".dropzone");
    if (zone && !zone.contains(event.relatedTarget)) zone.classList.remove("dragging");
  });
  document.addEventListener("drop", function (event) {
    const zone = event.target.closest && event.target.closest(".dropzone");
    if (!zone) return;
    event.preventDefault();
    zone.classList.remove("dragging");
    upload(zone, event.dataTransfer.files);
  });
  document.addEventListener("change", function (event) {
    if (event.target.matches(".dropzone input[type=file]")) {
      upload(event.target.closest(".dropzone"), event.target.files);
      event.target.value = "";
    }
  });

  function upload(zone, files) {
    const list = document.querySelector(zone.dataset.progress);
    Array.from(files).forEach(function (file) {
      const item = document.createElement("li");
      const name = document.createElement("span");
      name.textContent = file.name;
      const status = document.createElement("span");
      status.className = "muted";
      status.textContent = "0%";
      const bar = document.createElement("progress");
      bar.max = 100;
      bar.value = 0;
      bar.setAttribute("aria-label", "Uploading " + file.name);
      item.append(name, status, bar);
      if (list) list.append(item);
      const form = new FormData();
      form.append("file", file);
      const request = new XMLHttpRequest();
      request.open("POST", zone.dataset.uploadUrl);
      request.setRequestHeader("X-CSRFToken", zone.dataset.csrf);
      request.setRequestHeader("HX-Request", "true");
      request.upload.addEventListener("progress", function (progress) {
        if (!progress.lengthComputable) return;
        const percent = Math.round((progress.loaded / progress.total) * 100);
        bar.value = percent;
        status.textContent = percent + "%";
      });
      request.addEventListener("load", function () {
        if (request.status >= 200 && request.status < 300) {
          bar.value = 100;
          status.textContent = "Uploaded";
          item.classList.add("uploaded");
          const target = document.querySelector(zone.dataset.refresh);
          if (target && window.htmx) window.htmx.trigger(target, "refresh");
          window.setTimeout(function () { item.remove(); }, 2500);
        } else {
          status.textContent = "Failed";
          status.className = "error";
          const why = document.createElement("span");
          why.className = "error";
          why.textContent = request.responseText.length < 300 ? request.responseText : "The upload was refused.";
          item.append(why);
        }
      });
      request.addEventListener("error", function () {
        status.textContent = "Failed: the connection dropped";
        status.className = "error";
      });
      request.send(form);
    });
  }

  /* ---- htmx glue ------------------------------------------------------------------------ */
  document.addEventListener("htmx:afterSwap", function (event) { setup(event.detail.target); });
  document.addEventListener("htmx:oobAfterSwap", function (event) { setup(event.detail.target); });
  document.addEventListener("htmx:responseError", function (event) {
    const xhr = event.detail.xhr;
    const message = xhr.status === 403 ? "You were signed out or the page is stale: reload it." :
      xhr.status >= 500 ? "Something went wrong on our side. Try again in a moment." : "That did not work (" + xhr.status + ").";
    const holder = document.querySelector("main .messages") || (function () {
      const list = document.createElement("ul");
      list.className = "messages";
      list.setAttribute("role", "status");
      document.querySelector("main").prepend(list);
      return list;
    })();
    const item = document.createElement("li");
    item.className = "error";
    item.textContent = message;
    holder.append(item);
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { setup(document); });
  } else {
    setup(document);
  }
})();
