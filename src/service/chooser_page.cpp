// The device chooser page the service serves at http://127.0.0.1:5066/?key=...
// One static page; everything it shows comes over the JSON WebSocket API
// (State, then events), and every button sends an API message (Choose, Approve).
#include "service/web_api.h"

namespace confab::service {

const std::string& chooser_page() {
  static const std::string page = R"HTML(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Confab</title>
<style>
body{font:15px/1.4 system-ui,sans-serif;margin:2em auto;max-width:46em;color:#222}
h1{font-size:1.3em} h2{font-size:1.05em;margin-top:1.6em;border-bottom:1px solid #ddd}
.choice,.approval{background:#fff8e0;border:1px solid #e8c860;padding:.7em;margin:.5em 0;border-radius:6px}
button{margin:.2em .3em .2em 0;padding:.35em .8em} .muted{color:#777} code{background:#f3f3f3;padding:0 .3em}
#status{float:right;font-size:.85em}
</style></head><body>
<h1>Confab <span id="status" class="muted">connecting…</span></h1>
<h2>Join requests</h2><div id="choices"><p class="muted">None waiting.</p></div>
<h2>Web pages asking for access</h2><div id="approvals"><p class="muted">None waiting.</p></div>
<h2>Calls</h2><div id="calls"><p class="muted">No calls.</p></div>
<h2>Devices</h2><div id="devices"></div>
<h2>Approved web pages</h2><div id="approved"></div>
<script>
"use strict";
const key = new URLSearchParams(location.search).get("key") || "";
let ws, tag = 0;
const el = (name, attrs = {}, ...kids) => {
  const e = document.createElement(name);
  for (const [k, v] of Object.entries(attrs)) k === "onclick" ? (e.onclick = v) : e.setAttribute(k, v);
  for (const k of kids) e.append(k);
  return e;
};
const send = (msg) => { msg.tag = "page" + (++tag); ws.send(JSON.stringify(msg)); };
const kids = (m, type) => (m.children || []).filter((c) => c.type === type);
function render(state) {
  const devices = kids(kids(state, "Devices")[0] || {}, "Device");
  const choices = document.getElementById("choices");
  choices.replaceChildren();
  for (const c of kids(state, "ChoiceRequest")) {
    const box = el("div", {class: "choice", "data-choice": c.choice},
                   c.incoming ? el("div", {}, "Incoming call from ", el("code", {}, c.target), ", answer on:")
                              : el("div", {}, "Join ", el("code", {}, c.target), c.from ? " (asked by " + c.from + ")" : "", " on:"));
    for (const d of devices)
      box.append(el("button", {"data-device": d.id, onclick: () => send({type: "Choose", choice: c.choice, dev: d.id})},
                    d.name || d.id));
    box.append(el("button", {"data-decline": "1", onclick: () => send({type: "Choose", choice: c.choice, decline: "true"})}, "Decline"));
    choices.append(box);
  }
  if (!choices.children.length) choices.append(el("p", {class: "muted"}, "None waiting."));
  const approvals = document.getElementById("approvals");
  approvals.replaceChildren();
  for (const a of kids(state, "ApprovalRequest"))
    approvals.append(el("div", {class: "approval", "data-origin": a.origin}, el("code", {}, a.origin), " wants to use Confab ",
      el("button", {"data-approve": a.origin, onclick: () => send({type: "Approve", origin: a.origin})}, "Allow"),
      el("button", {onclick: () => send({type: "Approve", origin: a.origin, revoke: "true"})}, "Deny")));
  if (!approvals.children.length) approvals.append(el("p", {class: "muted"}, "None waiting."));
  const calls = document.getElementById("calls");
  calls.replaceChildren();
  for (const c of kids(kids(state, "Calls")[0] || {}, "Call")) {
    const roster = kids(state, "Roster").find((r) => r.call === c.id);
    const who = roster ? kids(roster, "Member").map((m) => m.name || m.uri).join(", ") : "";
    calls.append(el("div", {"data-call": c.id}, el("code", {}, c.target), " on ", c.device, " (" + c.mode + ", " + c.state + ") ",
      el("button", {onclick: () => send({type: "Hangup", call: c.id})}, "Hang up"), who ? el("div", {class: "muted"}, "With: " + who) : ""));
  }
  if (!calls.children.length) calls.append(el("p", {class: "muted"}, "No calls."));
  document.getElementById("devices").replaceChildren(...devices.map((d) =>
    el("div", {}, el("b", {}, d.name || d.id), " ", el("code", {}, d.uri), d.default === "true" ? " (default)" : "")));
  document.getElementById("approved").replaceChildren(...kids(state, "Approved").map((a) =>
    el("div", {}, el("code", {}, a.origin), " ", el("button", {onclick: () => send({type: "Approve", origin: a.origin, revoke: "true"})}, "Revoke"))));
}
function connect() {
  ws = new WebSocket("ws://" + location.host + "/api?key=" + encodeURIComponent(key));
  ws.onopen = () => {
    document.getElementById("status").textContent = "connected";
    send({type: "Subscribe", events: "calls roster choices"});
    send({type: "State"});
  };
  ws.onmessage = (e) => {
    const m = JSON.parse(e.data);
    if (m.type === "Result") { const s = kids(m, "State")[0]; if (s) render(s); else if (m.status === "error") alert(m.reason); return; }
    send({type: "State"});  // an event: fetch the whole picture again
  };
  ws.onclose = () => { document.getElementById("status").textContent = "disconnected, retrying…"; setTimeout(connect, 1000); };
}
connect();
</script></body></html>
)HTML";
  return page;
}

}  // namespace confab::service
