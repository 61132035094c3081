// The game page (served by `confab game` at /): the world on a canvas, a join
// form, moving by keys (arrows, WASD) and clicks, and a side panel with your
// zone, its conference's members, what you hear and your voice. It speaks the
// game's WebSocket protocol (docs/api.md, "Game server").
//
// In a world with voice = "client" the page also drives the player's own
// Confab client service over its JSON API (ws://127.0.0.1:5066/api, or
// ?service=ws://... in this page's address): ExternalJoin into the first
// zone's conference (the user picks a device), SameDeviceJoin at each
// crossing, Hangup on leaving; the zone's members come from its roster events.
// Every way that can fail is said in the page (ServiceVoice, diagnose()).

import {diagnose as confabDiagnose, explain as confabExplain} from "/confab.js";

const $ = (id) => document.getElementById(id);
const el = (name, attrs = {}, ...kids) => {
  const e = document.createElement(name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...kids);
  return e;
};

let world = null;  // GET /world, then the welcome's
let ws = null;     // the game's WebSocket
let me = null;     // my player id once welcomed
let state = null;  // the world as this client knows it: {players, rosters, you} (see mergeState)
let known = null;  // what the state messages said so far (see mergeState)
let voice = null;  // client voice mode: the ServiceVoice
let scale = 1;     // canvas pixels per metre

const status = (text) => { $("status").textContent = text; };
function showError(text) {
  $("error").textContent = text;
  $("error").hidden = !text;
}

// ---- the game's WebSocket ----

function connect(then) {
  if (ws && ws.readyState === WebSocket.OPEN) return then();
  const socket = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`);
  ws = socket;
  status("connecting…");
  socket.onopen = () => { status("connected"); then(); };
  socket.onmessage = (e) => { if (ws === socket) onMessage(JSON.parse(e.data)); };
  socket.onclose = () => { if (ws === socket) onClosed(); };
}

function send(message) {
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
}

function onMessage(m) {
  if (m.type === "welcome") {
    me = m.id;
    setWorld(m.world);
    $("join").hidden = true;
    $("playing").hidden = false;
    $("me").textContent = $("name").value.trim();
    status("playing");
    if (world.voice === "client") voice = new ServiceVoice(serviceUrl(), render);
  } else if (m.type === "state") {
    state = mergeState(m);
    if (voice) voice.want(m.you.conference);
    render();
  } else if (m.type === "error") {
    showError(`${m.reason} (${m.code})`);
  }
}

// A state carries only what changed (docs/api.md, "state"): cards of players
// who joined or changed ("players"), who left ("left"), the positions of whole
// zones ("zones"), the rosters of zones ("rosters"), and "you". A player is
// where the newest zone list that has it says.
function mergeState(m) {
  known = known || {cards: new Map(), zones: new Map(), rosters: {}, seq: 0};
  known.seq++;
  for (const [id, card] of Object.entries(m.players || {})) known.cards.set(id, card);
  for (const id of m.left || []) known.cards.delete(id);
  for (const [zone, list] of Object.entries(m.zones || {})) known.zones.set(zone, {seq: known.seq, list});
  Object.assign(known.rosters, m.rosters || {});
  const where = new Map();
  for (const [zone, {seq, list}] of known.zones) {
    for (const [id, x, y] of list) {
      const card = known.cards.get(id);
      if (card && !(where.get(id)?.seq > seq)) where.set(id, {id, name: card.name, voice: card.voice, x, y, zone, seq});
    }
  }
  const players = [...where.values()].sort((a, b) => Number(a.id.slice(1)) - Number(b.id.slice(1)));
  return {players, rosters: known.rosters, you: m.you};
}

function onClosed() {
  ws = null;
  status(me ? "disconnected" : "not connected");
  me = null;
  state = null;
  known = null;
  held.clear();
  sent = "0,0";
  if (voice) voice.hangup();
  voice = null;
  $("join").hidden = false;
  $("playing").hidden = true;
  render();
}

// ---- joining, leaving, voice buttons ----

$("join").addEventListener("submit", (e) => {
  e.preventDefault();
  showError("");
  const message = {type: "join", name: $("name").value.trim()};
  if ($("sip").value.trim()) message.sip = $("sip").value.trim();
  connect(() => send(message));
});

$("leave").addEventListener("click", () => {
  if (voice) voice.hangup();
  send({type: "leave"});
});

$("call-again").addEventListener("click", () => {
  if (voice) voice.again();
  else send({type: "call_again"});
});

// ---- moving: arrow keys and WASD hold a direction, a click walks to a spot ----

const directions = {
  ArrowUp: [0, -1], KeyW: [0, -1], ArrowDown: [0, 1], KeyS: [0, 1],
  ArrowLeft: [-1, 0], KeyA: [-1, 0], ArrowRight: [1, 0], KeyD: [1, 0],
};
const held = new Set();
let sent = "0,0";  // the direction last sent

function sendDirection() {
  let dx = 0, dy = 0;
  for (const code of held) [dx, dy] = [dx + directions[code][0], dy + directions[code][1]];
  dx = Math.sign(dx);
  dy = Math.sign(dy);
  if (`${dx},${dy}` === sent) return;
  sent = `${dx},${dy}`;
  send({type: "move", dx, dy});
}

const typing = (e) => /^(INPUT|TEXTAREA|SELECT)$/.test(e.target.tagName);
document.addEventListener("keydown", (e) => {
  if (!me || typing(e) || e.ctrlKey || e.altKey || e.metaKey || !(e.code in directions)) return;
  e.preventDefault();
  held.add(e.code);
  sendDirection();
});
document.addEventListener("keyup", (e) => {
  if (!held.delete(e.code)) return;
  e.preventDefault();
  sendDirection();
});
window.addEventListener("blur", () => { held.clear(); if (me) sendDirection(); });

$("map").addEventListener("click", (e) => {
  if (!me || !world) return;
  const canvas = $("map"), box = canvas.getBoundingClientRect();
  const x = ((e.clientX - box.left) * canvas.width) / box.width / scale;
  const y = ((e.clientY - box.top) * canvas.height) / box.height / scale;
  held.clear();
  sent = "0,0";
  send({type: "goto", x: Math.round(x * 100) / 100, y: Math.round(y * 100) / 100});
});

// ---- drawing ----

function setWorld(w) {
  world = w;
  const canvas = $("map");
  scale = 640 / Math.max(w.width, w.height);
  canvas.width = Math.round(w.width * scale);
  canvas.height = Math.round(w.height * scale);
  $("world-name").textContent = w.name;
  const client = w.voice === "client";
  $("sip-help").textContent = client
    ? "Optional: your voice goes through your own Confab service (you pick the device)."
    : "The game server calls you at this address for your zone's conference.";
  $("sip").required = !client;
}

const zoneColours = ["#eef5ff", "#effaf0", "#fdf1f6", "#f5f0ff", "#f2fbfb", "#fbf7ee"];

function drawMap() {
  const canvas = $("map"), g = canvas.getContext("2d");
  g.clearRect(0, 0, canvas.width, canvas.height);
  if (!world) return;
  const you = state && state.you;
  world.zones.forEach((z, i) => {
    g.fillStyle = you && z.name === you.zone ? "#fff3c4" : zoneColours[i % zoneColours.length];
    g.fillRect(z.x * scale, z.y * scale, z.width * scale, z.height * scale);
    g.strokeStyle = "#9aa";
    g.strokeRect(z.x * scale + 0.5, z.y * scale + 0.5, z.width * scale - 1, z.height * scale - 1);
    g.fillStyle = "#556";
    g.font = "bold 14px system-ui, sans-serif";
    g.fillText(z.name, z.x * scale + 6, z.y * scale + 18);
  });
  if (!state) return;
  for (const p of state.players) {
    const mine = p.id === me, x = p.x * scale, y = p.y * scale;
    if (mine && world.proximity_m > 0) {  // how far you hear other zones
      g.setLineDash([4, 4]);
      g.strokeStyle = "#d08a00";
      g.beginPath();
      g.arc(x, y, world.proximity_m * scale, 0, 2 * Math.PI);
      g.stroke();
      g.setLineDash([]);
    }
    g.fillStyle = mine ? "#d9480f" : "#3467c9";
    g.beginPath();
    g.arc(x, y, mine ? 7 : 5, 0, 2 * Math.PI);
    g.fill();
    if (mine) { g.strokeStyle = "#222"; g.lineWidth = 2; g.stroke(); g.lineWidth = 1; }
    g.fillStyle = "#222";
    g.font = `${mine ? "bold " : ""}12px system-ui, sans-serif`;
    g.fillText(p.name, x + 9, y - 6);
  }
}

// ---- the side panel ----

function render() {
  drawMap();
  const players = state ? state.players : [];
  $("players").replaceChildren(...players.map((p) => el("li", {
    "data-id": p.id, "data-name": p.name, "data-zone": p.zone, "data-x": p.x, "data-y": p.y,
    class: p.id === me ? "me" : "",
  }, `${p.name} (${p.zone})`)));
  if (!state || !me) return;
  const you = state.you;
  $("zone").textContent = you.zone;
  $("zone").dataset.zone = you.zone;
  $("hears").replaceChildren(...you.hears.map((h, i) => el("li", {"data-zone": h.zone, "data-db": h.db},
    i === 0 ? `${h.zone} (your zone)` : `${h.zone}: ${h.db} dB`)));
  const members = voice ? voice.members()
                        : (state.rosters[you.zone] || []).map((uri) => ({uri, name: ""}));
  $("roster").replaceChildren(...members.map((m) => el("li", {"data-uri": m.uri},
    m.name ? `${m.name} <${m.uri}>` : m.uri)));
  $("roster-empty").hidden = members.length > 0;
  const v = voice ? voice.status() : you.voice;
  $("voice").textContent = v.state;
  $("voice").dataset.state = v.state;
  $("voice-reason").textContent = v.reason ? `(${v.reason})` : "";
  $("call-again").hidden = !(v.state === "off" || v.state === "failed") || !you.conference;
}

// ---- client voice mode: the player's own Confab service ----

function serviceUrl() {
  const asked = new URLSearchParams(location.search).get("service");
  return asked && /^wss?:\/\//.test(asked) ? asked : "ws://127.0.0.1:5066/api";
}

// Why the WebSocket to the service failed and what a refused request means,
// said as confab.js says it (docs/api.md, "confab.js"), and what to do here.
const AGAIN = " Then click “Call me again”.";
const diagnose = async (url) => (await confabDiagnose(url)).message + AGAIN;
function explain(type, r) {
  if (r.code === "603" || r.code === "408") return confabExplain(type, r) + AGAIN;
  return confabExplain(type, r);
}

class ServiceVoice {
  constructor(url, changed) {
    this.url = url;
    this.changed = changed;
    this.state = {state: "off", reason: ""};
    this.call = null;      // our call's id at the service
    this.joined = null;    // the conference it is in
    this.wanted = null;    // the conference of the zone we are in
    this.pending = null;   // the request under way {tag, type, target}
    this.held = false;     // failed or ended: wait for "Call me again"
    this.rosters = new Map();  // conference -> Map(uri -> name)
    this.tag = 0;
    this.open();
  }

  open() {
    this.set("calling", `connecting to your Confab service at ${this.url}`);
    const socket = new WebSocket(this.url);
    let opened = false;
    this.ws = socket;
    socket.onopen = () => {
      opened = true;
      socket.send(JSON.stringify({type: "Subscribe", events: "calls roster", tag: "subscribe"}));
      this.sync();
    };
    socket.onmessage = (e) => { if (this.ws === socket) this.onMessage(JSON.parse(e.data)); };
    socket.onclose = async () => {
      if (this.ws !== socket) return;
      Object.assign(this, {ws: null, call: null, joined: null, pending: null});
      this.rosters.clear();
      this.fail(opened ? "Your Confab service closed the connection." : await diagnose(this.url));
    };
  }

  want(conference) {
    if (conference === this.wanted) return;
    this.wanted = conference;
    if (!conference) this.set("off", "this zone has no conference");
    this.sync();
  }

  sync() {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN || this.pending || this.held || !this.wanted) return;
    if (!this.call) this.request("ExternalJoin", "waiting for you to pick a device in Confab");
    else if (this.joined !== this.wanted) this.request("SameDeviceJoin", `moving your call to ${this.wanted}`);
  }

  request(type, doing) {
    this.pending = {tag: `game${++this.tag}`, type, target: this.wanted};
    this.set("calling", doing);
    this.ws.send(JSON.stringify({type, id: this.wanted, tag: this.pending.tag}));
  }

  onMessage(m) {
    if (m.type === "Result" && this.pending && m.tag === this.pending.tag) {
      const p = this.pending;
      this.pending = null;
      if (m.status !== "ok") return this.fail(explain(p.type, m));
      this.call = m.call;
      this.joined = m.target || p.target;
      this.set("on", `in ${this.joined}`);
      this.sync();
    } else if (m.type === "Call" && m.id === this.call && m.state === "ended") {
      Object.assign(this, {call: null, joined: null, held: true});
      this.set("off", `your call ended (${m.code || ""} ${m.reason || ""})`.replace(" ( )", ""));
    } else if (m.type === "Roster") {
      const members = this.rosters.get(m.conference) || new Map();
      for (const c of m.children || []) {
        if (c.type === "Joined") members.set(c.uri, c.name || "");
        if (c.type === "Left") members.delete(c.uri);
      }
      this.rosters.set(m.conference, members);
      this.changed();
    } else if (m.type === "Result" && m.status === "error" && !m.tag) {
      this.fail(`Your Confab service refused a message: ${m.reason}`);
    }
  }

  members() {
    const members = this.rosters.get(this.joined) || new Map();
    return [...members].map(([uri, name]) => ({uri, name}));
  }

  status() { return this.state; }
  set(s, reason) { this.state = {state: s, reason}; this.changed(); }
  fail(reason) { this.held = true; this.set("failed", reason); }

  again() {
    this.held = false;
    if (!this.ws) this.open();
    else this.sync();
  }

  hangup() {
    const socket = this.ws;
    this.ws = null;
    if (socket && socket.readyState === WebSocket.OPEN && this.call)
      socket.send(JSON.stringify({type: "Hangup", call: this.call, tag: "leave"}));
    if (socket) socket.close();
    Object.assign(this, {call: null, joined: null, wanted: null, pending: null, held: true});
  }
}

// ---- start: the world first, so the map shows before joining ----

fetch("/world").then((r) => r.json()).then((w) => { setWorld(w); render(); status("not connected"); })
  .catch(() => status("cannot load the world"));
