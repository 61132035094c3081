// confab.js: SIP-aware web pages (docs/api.md, "confab.js"). One ES module,
// no build step, no dependencies; it works served from any origin.
//
// As a library it drives the visitor's own Confab client service over its
// JSON API (ws://127.0.0.1:5066/api):
//
//   import {Confab} from "/confab.js";
//   const confab = await Confab.connect();
//   confab.on("roster", (r) => show(r.members));
//   await confab.sameDeviceJoin("sip:web-films-dune@conf.example.com");
//
// Loaded as <script type="module" src="/confab.js" data-confab="auto"></script>
// it does community browsing by itself (CommunityPanel below): the page's
// conference (data-conference, <meta name="confab-conference">, else the
// site's /_confab/page), SameDeviceJoin into it while the tab is visible,
// "viewing now" live from the service's rosters (the site's own roster
// without a service), a "join by phone" sip: link, and a clear message for
// every way joining can fail.

export const DEFAULT_SERVICE = "ws://127.0.0.1:5066/api";

// A refused request or a failed connection: `code` is the service's result
// code ("603", "403", ...) or, for connect(), "no-service", "not-approved",
// "lna-denied" or "unreachable"; `message` says it to the user.
export class ConfabError extends Error {
  constructor(code, message, result = null) {
    super(message);
    this.name = "ConfabError";
    this.code = code;
    this.result = result;
  }
}

// ---- why a WebSocket to the service failed (a browser tells a page nothing) ----

// The state of the browser's Local Network Access permission ("granted",
// "denied", "prompt"), or null where there is none. Chromium 142+ asks before
// a public page may reach loopback (WebSockets too since 147); it names the
// permission "loopback-network" (and "local-network-access", its first name).
export async function localNetworkPermission() {
  let seen = null;
  for (const name of ["loopback-network", "local-network-access"]) {
    try {
      const s = (await navigator.permissions.query({name})).state;
      if (s === "denied") return s;
      seen = seen === "granted" ? seen : s;
    } catch { /* not a permission this browser knows */ }
  }
  return seen;
}

const pageIsLoopback = () => /^(127\.|localhost$|\[::1\]$)/.test(location.hostname);
const START = "Start it with `confab service` (or `systemctl --user start confab-service`).";

// The ConfabError for a WebSocket to `url` that never opened: the permission
// first, then whether the service answers HTTP at all (it refuses the
// WebSocket of an origin the user has not approved).
export async function diagnose(url) {
  const origin = location.origin;
  if ((await localNetworkPermission()) === "denied" && !window.isSecureContext)
    return new ConfabError("lna-denied",
      "This page is not served over HTTPS, so your browser never lets it reach your computer (Local Network " +
      "Access), and it cannot reach your Confab service. The site must use HTTPS; meanwhile, join by phone.");
  if ((await localNetworkPermission()) === "denied")
    return new ConfabError("lna-denied",
      "Your browser does not let this page reach your computer (Local Network Access was refused), so it cannot " +
      "reach your Confab service. Allow it in this site's settings (the icon left of the address).");
  let answers = false;
  try {
    await fetch(url.replace(/^ws/, "http").replace(/\/api(\?.*)?$/, "/"), {mode: "no-cors", cache: "no-store"});
    answers = true;
  } catch { /* nothing listens there, or the browser blocked it */ }
  if (answers)
    return new ConfabError("not-approved",
      `Your Confab service refused this page: its origin ${origin} is not approved. Approve it on Confab's ` +
      `device chooser page (\`confab chooser\` prints its address) or run \`confab approve ${origin}\`.`);
  if (pageIsLoopback() || (await localNetworkPermission()) === "granted")
    return new ConfabError("no-service", `Your Confab service is not running (nothing answers at ${url}). ${START}`);
  return new ConfabError("unreachable",
    `Could not reach your Confab service at ${url}: it is not running, or your browser did not let this page ` +
    `reach your computer (Local Network Access: allow it when the browser asks). ${START}`);
}

// What a refused request means for the user.
export function explain(type, r) {
  const code = String(r.code || "");
  if (code === "603") return "You declined the device choice, so you are not in the conversation.";
  if (code === "408") return "No device was chosen in time.";
  if (code === "403") return `Your Confab service does not allow this page to do that: ${r.reason}`;
  if (code === "409") return `Your Confab service has no device to call you on: ${r.reason}`;
  return `${type} failed: ${code} ${r.reason || ""}`.trim();
}

// ---- the library ----

export class Confab {
  // Opens the service's WebSocket and subscribes to `events`; resolves once
  // subscribed, rejects with a ConfabError saying why it could not.
  static connect({service = DEFAULT_SERVICE, events = "calls roster"} = {}) {
    return new Promise((resolve, reject) => {
      let confab;
      try {
        confab = new Confab(service);
      } catch (e) {  // not a WebSocket address, or the page's own policy forbids it
        return reject(new ConfabError("blocked", `This page cannot open ${service}: ${e.message}`));
      }
      let opened = false;
      confab.ws.onopen = () => {
        opened = true;
        confab.request({type: "Subscribe", events}).then(() => {
          resolve(confab);
          confab.emit("state", {state: "connected", reason: ""});
        }, reject);
      };
      confab.ws.onclose = async () => {
        if (opened) return confab.closed("Your Confab service closed the connection.");
        confab.ws = null;
        reject(await diagnose(service));
      };
    });
  }

  constructor(service) {
    this.service = service;
    this.handlers = {roster: [], call: [], state: [], error: []};
    this.pending = new Map();   // tag -> {resolve, reject, type}
    this.rosters = new Map();   // conference -> Map(uri -> name)
    this.tag = 0;
    this.ws = new WebSocket(service);
    this.ws.onmessage = (e) => this.onMessage(JSON.parse(e.data));
  }

  on(event, fn) {
    if (!this.handlers[event]) throw new Error(`no event "${event}" (roster, call, state, error)`);
    this.handlers[event].push(fn);
    return this;
  }

  emit(event, value) {
    for (const fn of this.handlers[event]) {
      try { fn(value); } catch (e) { console.error(e); }
    }
  }

  // Sends one API message (its JSON twin); resolves with the Result when it is
  // ok, rejects with a ConfabError carrying the service's code otherwise.
  request(message) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN)
      return Promise.reject(new ConfabError("closed", "Not connected to your Confab service."));
    const tag = `confab${++this.tag}`;
    return new Promise((resolve, reject) => {
      this.pending.set(tag, {resolve, reject, type: message.type});
      this.ws.send(JSON.stringify({...message, tag}));
    });
  }

  join(uri, {device} = {}) {
    return this.request({type: "Join", id: uri, ...(device ? {children: [{type: "Use", dev: device}]} : {})});
  }
  externalJoin(uri) { return this.request({type: "ExternalJoin", id: uri}); }
  sameDeviceJoin(uri) { return this.request({type: "SameDeviceJoin", id: uri}); }
  hangup(call) { return this.request({type: "Hangup", ...(call ? {call} : {})}); }
  calls() { return this.request({type: "Calls"}); }

  // Who is in `conference` now, as the service's Roster events said.
  members(conference) {
    return [...(this.rosters.get(conference) || new Map())].map(([uri, name]) => ({uri, name}));
  }

  close() { this.closed("Closed by the page."); }

  closed(reason) {
    if (this.gone) return;
    this.gone = true;
    const ws = this.ws;
    this.ws = null;
    if (ws) ws.close();
    for (const p of this.pending.values()) p.reject(new ConfabError("closed", reason));
    this.pending.clear();
    this.emit("state", {state: "closed", reason});
  }

  onMessage(m) {
    if (m.type === "Result" && this.pending.has(m.tag)) {
      const p = this.pending.get(m.tag);
      this.pending.delete(m.tag);
      if (m.status === "ok") p.resolve(m);
      else p.reject(new ConfabError(m.code, explain(p.type, m), m));
    } else if (m.type === "Result" && !m.tag) {
      this.emit("error", new ConfabError(m.code, `Your Confab service refused a message: ${m.reason}`, m));
    } else if (m.type === "Call") {
      this.emit("call", m);
    } else if (m.type === "Roster") {
      const members = this.rosters.get(m.conference) || new Map();
      const joined = [], left = [];
      for (const c of m.children || []) {
        const who = {uri: c.uri, name: c.name || ""};
        if (c.type === "Joined") { members.set(c.uri, who.name); joined.push(who); }
        if (c.type === "Left") { members.delete(c.uri); left.push(who); }
      }
      if (members.size) this.rosters.set(m.conference, members);
      else this.rosters.delete(m.conference);
      this.emit("roster", {conference: m.conference, call: m.call, members: this.members(m.conference), joined, left});
    }
  }
}

// ---- community browsing: <script type="module" src="/confab.js" data-confab="auto"> ----

const el = (name, attrs = {}, ...kids) => {
  const e = document.createElement(name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...kids);
  return e;
};

// The service's address: the script's data-service, else one a page of this
// site was opened with (?confab-service=ws://127.0.0.1:PORT/api, kept for the
// browser profile); only loopback addresses, as the service is on this computer.
function serviceAddress(script) {
  const loopback = (u) => /^ws:\/\/(127\.0\.0\.1|localhost|\[::1\]):\d+\/api$/.test(u || "");
  if (loopback(script.dataset.service)) return script.dataset.service;
  const asked = new URLSearchParams(location.search).get("confab-service");
  try {
    if (loopback(asked)) localStorage.setItem("confab-service", asked);
    const kept = localStorage.getItem("confab-service");
    if (loopback(kept)) return kept;
  } catch { /* storage refused: the default */ }
  return DEFAULT_SERVICE;
}

// The page's conference: the script's data-conference, the confab-conference
// meta tag, else what the site says of this path.
async function pageConference(script) {
  if (script.dataset.conference) return script.dataset.conference;
  const meta = document.querySelector('meta[name="confab-conference"]');
  if (meta && meta.content) return meta.content;
  const r = await fetch(`/_confab/page?path=${encodeURIComponent(location.pathname)}`, {cache: "no-store"});
  if (!r.ok) throw new Error(`the site says ${r.status} for this page's conference`);
  return (await r.json()).conference;
}

const STYLE = `
.confab { font: 14px/1.4 system-ui, sans-serif; border: 1px solid #ccd; border-radius: 6px; padding: 8px 12px;
          max-width: 22em; background: #fafbff; color: #223; }
aside.confab { position: fixed; right: 12px; bottom: 12px; box-shadow: 0 2px 8px #0002; z-index: 1000; }
.confab-title { font-weight: 600; margin-top: 6px; }
.confab-status[data-state="joined"] { color: #176d2c; }
.confab-message { margin: 6px 0; color: #8a3b00; }
.confab-viewers { margin: 4px 0; padding-left: 1.2em; }
.confab-empty { color: #667; margin: 4px 0; }
.confab-join { margin: 4px 0; }
`;

class CommunityPanel {
  constructor(script) {
    this.script = script;
    this.service = serviceAddress(script);
    this.conference = null;
    this.confab = null;     // the service's connection
    this.call = null;       // our call at the service {id, target}
    this.siteMembers = null;  // the site's roster of this page (no service needed)
    this.joining = false;
    this.retry = null;      // timer re-connecting while the origin is not approved
    this.render();
  }

  render() {
    try {
      const sheet = new CSSStyleSheet();  // CSSOM: allowed under a strict style-src
      sheet.replaceSync(STYLE);
      document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
    } catch { /* unstyled */ }
    const root = document.getElementById("confab") || document.body.appendChild(el("aside", {id: "confab-panel"}));
    root.classList.add("confab");
    this.ui = {
      status: el("div", {class: "confab-status", "data-state": "starting"}, "Confab: starting…"),
      message: el("p", {class: "confab-message", hidden: ""}),
      join: el("button", {class: "confab-join", type: "button", hidden: ""}, "Join this page's conversation"),
      viewers: el("ul", {class: "confab-viewers"}),
      empty: el("p", {class: "confab-empty"}, "Nobody is here yet."),
      phone: el("a", {class: "confab-phone", hidden: ""}, "Join by phone"),
    };
    this.ui.join.addEventListener("click", () => this.again());
    root.replaceChildren(this.ui.status, this.ui.message, this.ui.join,
                         el("div", {class: "confab-title"}, "Viewing now"), this.ui.viewers, this.ui.empty,
                         this.ui.phone);
  }

  status(state, text, message = "", offerJoin = false) {
    this.ui.status.dataset.state = state;
    this.ui.status.textContent = text;
    this.ui.message.textContent = message;
    this.ui.message.hidden = !message;
    this.ui.join.hidden = !offerJoin;
  }

  async start() {
    try {
      this.conference = await pageConference(this.script);
    } catch (e) {
      return this.status("no-conference", "This page has no conversation.", `The site does not say which ` +
                         `conference this page is (${e.message}).`);
    }
    this.ui.phone.href = this.conference;
    this.ui.phone.textContent = `Join by phone: ${this.conference}`;
    this.ui.phone.hidden = false;
    this.watchSite();
    document.addEventListener("visibilitychange", () => this.visibilityChanged());
    this.connect();
  }

  // The site's own roster of this page (WebSocket /_confab/roster), for
  // visitors without a service or before they join.
  watchSite() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/_confab/roster?path=${encodeURIComponent(location.pathname)}`);
    ws.onmessage = (e) => {
      const m = JSON.parse(e.data);
      if (m.type !== "roster") return;
      this.siteMembers = (m.members || []).map((x) => ({uri: x.uri, name: x.name || ""}));
      this.showViewers();
    };
    ws.onclose = () => setTimeout(() => this.watchSite(), 3000);
  }

  // Ours when our call is in this page's conference, else the site's.
  showViewers() {
    const here = this.call && this.call.target === this.conference && this.confab;
    const members = here ? this.confab.members(this.conference) : this.siteMembers || [];
    this.ui.viewers.replaceChildren(...members.map((m) => el("li", {"data-uri": m.uri, title: m.uri},
                                                               m.name || m.uri)));
    this.ui.viewers.dataset.source = here ? "service" : "site";
    this.ui.empty.hidden = members.length > 0;
  }

  async connect() {
    clearTimeout(this.retry);
    this.status("connecting", `Confab: connecting to your Confab service at ${this.service}…`);
    try {
      this.confab = await Confab.connect({service: this.service});
    } catch (e) {
      this.confab = null;
      const approving = e.code === "not-approved";
      this.status(e.code, this.headline(e.code), e.message + (approving ? " This page joins once you have." : ""),
                  !approving);
      if (approving) this.retry = setTimeout(() => this.connect(), 2000);
      return;
    }
    this.confab.on("roster", (r) => { if (r.conference === this.conference) this.showViewers(); });
    this.confab.on("call", (m) => this.callChanged(m));
    this.confab.on("state", (s) => {
      if (s.state !== "closed") return;
      this.confab = null;
      this.call = null;
      this.status("closed", "Confab: disconnected.", s.reason, true);
      this.showViewers();
    });
    this.confab.on("error", (e) => this.status("error", "Confab: a problem.", e.message, true));
    this.visibilityChanged();
  }

  headline(code) {
    return {"no-service": "Confab is not running on your computer.",
            "not-approved": "Confab has not approved this site yet.",
            "lna-denied": "Your browser blocks this page from reaching Confab.",
            "unreachable": "Could not reach Confab on your computer."}[code] || "Confab: could not connect.";
  }

  // The visible tab owns the voice: it moves the call into its conference; hidden tabs leave it where it is.
  visibilityChanged() {
    if (!this.confab) return;
    if (document.visibilityState !== "visible") {
      if (!this.call) this.status("waiting", "Confab: this tab joins its page's conversation when you look at it.");
      return;
    }
    if (this.call && this.call.target === this.conference) return;
    this.join();
  }

  async join() {
    if (this.joining || !this.confab) return;
    this.joining = true;
    this.status("joining", `Confab: joining ${this.conference}…`,
                "If Confab asks which device to use, pick one there.");
    try {
      const r = await this.confab.sameDeviceJoin(this.conference);
      this.call = {id: r.call, target: r.target || this.conference};
      this.status("joined", `You are in this page's conversation (${this.conference}).`);
    } catch (e) {
      const state = {"603": "declined", "408": "timeout"}[e.code] || "failed";
      this.status(state, "You are not in this page's conversation.", e.message, !!this.confab);
    } finally {
      this.joining = false;
    }
    this.showViewers();
  }

  callChanged(m) {
    if (!this.call || m.id !== this.call.id) return;
    if (m.state === "ended") {
      this.call = null;
      this.status("ended", "Your call has ended.", m.reason ? `(${m.code} ${m.reason})` : "", true);
    } else if ((m.state === "moved" || m.state === "active") && m.target) {
      this.call.target = m.target;
      if (m.target !== this.conference && !this.joining)
        this.status("elsewhere", "Your call is with another page now.",
                    `It is in ${m.target}. Come back to this tab, or click below, to join this page's conversation.`,
                    true);
    }
    this.showViewers();
  }

  again() {
    if (this.confab) this.join();
    else this.connect();
  }
}

function autoScript() {
  for (const s of document.querySelectorAll("script[type=module][data-confab]"))
    if (new URL(s.src, location.href).href === import.meta.url) return s;
  return null;
}

const script = typeof document !== "undefined" ? autoScript() : null;
if (script && script.dataset.confab === "auto") {
  const go = () => new CommunityPanel(script).start();
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", go);
  else go();
}
