// Confab links, background worker: the only part that talks to `confab native-host`
// (native messaging), and only for the extension's own content scripts: messages
// from anything else (other extensions, web pages) are ignored. It checks again
// what a content script asks to join (links.js) and answers with a line for the
// user. docs/api.md "Native messaging relay" describes the host's side.
"use strict";

if (typeof globalThis.ConfabLinks === "undefined") importScripts("links.js");  // Chromium's service worker

const HOST = "org.confab.native_host";
let settings = null;  // {conferenceServer}, fetched from the host once per worker life

async function host(message) {
  try {
    return await chrome.runtime.sendNativeMessage(HOST, message);
  } catch (e) {
    const why = String(e && e.message || e);
    if (/not found|not installed|Access to the specified native messaging host is forbidden/i.test(why))
      return {type: "Result", status: "error", code: "503",
              reason: "the Confab native host is not installed (run `confab install-desktop`): " + why};
    return {type: "Result", status: "error", code: "502", reason: "the Confab native host failed: " + why};
  }
}

async function conferenceServer() {
  if (!settings) {
    const r = await host({type: "Settings"});
    if (!r || r.status !== "ok") return {error: r};
    settings = {conferenceServer: r.conference_server};
  }
  return settings;
}

function line(result, uri) {
  if (!result) return {ok: false, text: "Confab: no answer from the native host"};
  if (result.status === "ok") {
    const where = result.device ? " on " + result.device : "";
    return {ok: true, text: "Confab: joined " + uri + where};
  }
  const code = result.code || "";
  const reason = result.reason || "unknown error";
  if (code === "503") return {ok: false, text: "Confab service missing: " + reason};
  if (code === "403") return {ok: false, text: "Confab refused: " + reason};
  return {ok: false, text: "Confab: " + code + " " + reason};
}

async function handle(message) {
  if (message.action === "settings") {
    const s = await conferenceServer();
    return s.error ? {ok: false, text: line(s.error, "").text} : {ok: true, conferenceServer: s.conferenceServer};
  }
  if (message.action !== "join" && message.action !== "externalJoin") return {ok: false, text: "Confab: unknown request"};
  const target = typeof message.target === "string" ? message.target : "";
  const c = ConfabLinks.classify(target);
  if (!c) return {ok: false, text: "Confab: not a joinable URI"};
  let server = null;
  if (c.kind === "conf") {
    const s = await conferenceServer();
    if (s.error) return line(s.error, target);
    server = s.conferenceServer;
  }
  const uri = ConfabLinks.resolve(target, server);
  if (!uri) return {ok: false, text: "Confab: no conference server is set for " + target};
  const result = await host({type: message.action === "join" ? "Join" : "ExternalJoin", id: uri, tag: "1"});
  return line(result, uri);
}

chrome.runtime.onMessage.addListener((message, sender, sendResponse) => {
  // Our own content scripts only: same extension, from a tab's page, a plain object.
  if (sender.id !== chrome.runtime.id || !sender.tab || !message || typeof message !== "object") return false;
  handle(message).then(sendResponse, (e) => sendResponse({ok: false, text: "Confab: " + e.message}));
  return true;  // answered asynchronously
});
