// Confab links, content script: turns sip:, sips:, tel: and conf:NAME in the
// page's text into links (links.js says what qualifies), now and as text arrives
// (a MutationObserver that looks only at what changed). Click: join on the
// default device; Shift+click: join on the device the user chooses (ExternalJoin).
// Links are built with createElement/textContent; nothing is parsed as HTML.
// Never inside inputs, textareas, editable areas, code/pre, scripts/styles or
// existing links. The page cannot use this script to reach the service: it reacts
// only to trusted clicks on links it made, and listens to no page messages.
"use strict";

(() => {
  const L = globalThis.ConfabLinks;
  const MAX_TEXT = 100 * 1024;  // longer text nodes are left alone (a flood, not a chat message)
  const SKIP = new Set(["A", "INPUT", "TEXTAREA", "SELECT", "OPTION", "BUTTON", "CODE", "PRE", "KBD", "SAMP",
                        "SCRIPT", "STYLE", "NOSCRIPT", "TEMPLATE", "TITLE", "IFRAME", "OBJECT", "SVG",
                        "svg", "MATH", "math"]);
  const links = new WeakMap();  // our <a> -> the URI it joins (the page cannot rewrite it)
  const made = new WeakSet();   // the nodes we created: our own mutations are not rescanned
  let conferenceServer = null;  // from the service's settings, through the native host

  // True if text inside `el` must stay text.
  function skipped(el) {
    for (let e = el; e; e = e.parentElement) {
      if (SKIP.has(e.nodeName) || made.has(e)) return true;
    }
    return !!(el && el.isContentEditable);
  }

  function linkify(textNode) {
    const text = textNode.data;
    if (text.length > MAX_TEXT || text.indexOf(":") < 0) return 0;
    const found = L.find(text).filter((f) => !(f.start === 0 && gluedBefore(textNode)) &&
                                               !(f.end === text.length && gluedAfter(textNode)));
    if (!found.length) return 0;
    const parent = textNode.parentNode;
    if (!parent || skipped(parent.nodeType === 1 ? parent : parent.parentElement)) return 0;
    const fragment = document.createDocumentFragment();
    let at = 0;
    for (const f of found) {
      if (f.start > at) fragment.append(plain(text.slice(at, f.start)));
      fragment.append(link(f));
      at = f.end;
    }
    if (at < text.length) fragment.append(plain(text.slice(at)));
    parent.replaceChild(fragment, textNode);
    return found.length;
  }

  // A URI split by markup ("sip:bob@exa<i>mple</i>.com") is not a link: a match at
  // the edge of its text node must not continue into the node beside it.
  // (Before a URI, a nick's "alice:" or "(" is fine; a letter, digit or URI punctuation is not.)
  const GLUED_BEFORE = /[A-Za-z0-9\-_.~%@\/+&=]/, GLUED_AFTER = /[A-Za-z0-9\-_.~%@\/+&=:;?#<>"]/;
  function edgeChar(node, last) {
    for (let n = node; n; n = last ? n.lastChild : n.firstChild) {
      if (n.nodeType === 3) return n.data[last ? n.data.length - 1 : 0] || "";
      if (n.nodeType !== 1 || n.nodeName === "BR") return "";
    }
    return "";
  }
  const gluedBefore = (t) => GLUED_BEFORE.test(edgeChar(t.previousSibling, true));
  const gluedAfter = (t) => GLUED_AFTER.test(edgeChar(t.nextSibling, false));

  function plain(text) {
    const node = document.createTextNode(text);
    made.add(node);
    return node;
  }

  function link(f) {
    const a = document.createElement("a");
    a.className = "confab-link";
    a.textContent = f.text;
    a.dataset.confabKind = f.kind;
    links.set(a, f.target);
    made.add(a);
    setHref(a, f.target);
    return a;
  }

  function setHref(a, target) {
    const uri = L.resolve(target, conferenceServer);
    if (uri) {
      a.href = uri;  // a sip:/sips:/tel: URI links.js accepted
      a.title = "Join " + uri + " with Confab (Shift+click: choose the device)";
    } else {
      a.setAttribute("role", "link");
      a.tabIndex = 0;
      a.style.cursor = "pointer";
      a.title = "Join the conference " + target.slice(5) + " with Confab (Shift+click: choose the device)";
    }
  }

  // Every text node under `root` outside the skipped elements.
  function scan(root) {
    if (root.nodeType === 3) return linkify(root);
    if (root.nodeType !== 1 && root.nodeType !== 11) return 0;
    if (root.nodeType === 1 && skipped(root)) return 0;
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT, {
      acceptNode: (n) => n.nodeType === 1
        ? (SKIP.has(n.nodeName) || made.has(n) || n.isContentEditable ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_SKIP)
        : NodeFilter.FILTER_ACCEPT,
    });
    const texts = [];
    for (let n = walker.nextNode(); n; n = walker.nextNode()) if (n.data.indexOf(":") >= 0) texts.push(n);
    let count = 0;
    for (const t of texts) count += linkify(t);
    return count;
  }

  function onMutations(records) {
    const t0 = performance.now();
    let count = 0, looked = 0;
    for (const r of records) {
      if (r.type === "characterData") {
        if (r.target.isConnected) count += linkify(r.target), looked++;  // the page changed a text
        continue;
      }
      for (const n of r.addedNodes) if (!made.has(n) && n.isConnected) count += scan(n), looked++;
    }
    if (looked) report("mutation", t0, count);  // not for the echoes of our own changes
  }

  // For measurements (tests/browser/extension.mjs): "WHAT SEQ MS LINKS" of the last
  // scan (the page at start, or one batch of mutations), on the page's root element.
  let scans = 0;
  function report(what, t0, count) {
    document.documentElement.dataset.confabScan = what + " " + ++scans + " " + (performance.now() - t0).toFixed(3) +
                                                  " " + count;
  }

  // ---- clicks -> the background worker -> `confab native-host` -> the service ----
  document.addEventListener("click", (e) => {
    const a = e.target instanceof Element ? e.target.closest("a.confab-link") : null;
    if (!a || !links.has(a)) return;
    e.preventDefault();
    if (!e.isTrusted) return;  // a page script's a.click(): no join
    join(links.get(a), e.shiftKey);
  }, true);
  document.addEventListener("keydown", (e) => {
    const a = e.target instanceof Element ? e.target.closest("a.confab-link") : null;
    if (!a || !links.has(a) || a.hasAttribute("href") || e.key !== "Enter" || !e.isTrusted) return;
    e.preventDefault();
    join(links.get(a), e.shiftKey);
  }, true);

  async function join(target, choose) {
    notice((choose ? "Choose a device for " : "Joining ") + (L.resolve(target, conferenceServer) || target) + "…");
    let answer;
    try {
      answer = await chrome.runtime.sendMessage({action: choose ? "externalJoin" : "join", target});
    } catch (e) {
      answer = {ok: false, text: "Confab links: the extension did not answer (" + e.message + ")"};
    }
    notice(answer && answer.text ? answer.text : "Confab: no answer", answer && answer.ok ? "ok" : "error");
    if (!conferenceServer) fetchSettings();
  }

  // ---- the notice: a small box in a shadow root, bottom right ----
  let box = null, hideTimer = 0;
  function notice(text, kind = "busy") {
    if (!box) {
      const host = document.createElement("confab-notice");
      host.dataset.confabNotice = "";
      made.add(host);
      const root = host.attachShadow({mode: "open"});
      box = document.createElement("div");
      box.setAttribute("role", "status");
      box.setAttribute("aria-live", "polite");
      box.style.cssText = "position:fixed;right:12px;bottom:12px;z-index:2147483647;max-width:28em;padding:6px 10px;" +
        "font:13px/1.4 system-ui,sans-serif;border-radius:6px;box-shadow:0 1px 4px rgba(0,0,0,.3);color:#fff";
      root.append(box);
      document.documentElement.append(host);
    }
    box.textContent = text;
    box.dataset.kind = kind;
    box.style.background = kind === "error" ? "#a12" : kind === "ok" ? "#1a6" : "#345";
    box.hidden = false;
    clearTimeout(hideTimer);
    if (kind !== "busy") hideTimer = setTimeout(() => { box.hidden = true; }, 8000);
  }

  // ---- start ----
  function start() {
    const t0 = performance.now();
    const count = scan(document.body || document.documentElement);
    report("page", t0, count);
    new MutationObserver(onMutations).observe(document.documentElement,
                                              {childList: true, subtree: true, characterData: true});
  }
  start();
  // The conference server, for the conf: links' addresses; asked again after a
  // join while it is unknown (the host or the service was not there at load).
  function fetchSettings() {
    chrome.runtime.sendMessage({action: "settings"}).then((s) => {
      if (!s || !s.ok || !s.conferenceServer) return;
      conferenceServer = s.conferenceServer;
      for (const a of document.querySelectorAll("a.confab-link[data-confab-kind=conf]"))
        if (links.has(a)) setHref(a, links.get(a));
    }, () => {});
  }
  fetchSettings();
})();
