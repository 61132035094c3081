// Drives Debian's Chromium (playwright-core) through pages that include
// confab.js with data-confab="auto" (community browsing, docs/api.md "confab.js").
//
//   node web.mjs visitors PAGE_URL NEXT_PATH SERVICE...
//       one visitor per SERVICE (its own Confab service's WebSocket URL), each in a
//       browser context of its own, opens PAGE_URL; once every page has joined and
//       lists every visitor it prints "ready" and the lists, then waits for "move" on
//       stdin: the first visitor follows the page's link to NEXT_PATH ("moved at
//       EPOCH_MS"); prints "dropped after N ms" once the others' lists no longer show
//       it and "joined next" once its new page has joined, then waits for "done".
//   node web.mjs panel PAGE_URL [--public] [--lna granted|denied] [--spki HASH] [--as-host NAME] [--service URL]
//                  [--until STATES]
//       one visitor opens the page; prints "context {secure, protocol}" (the page's
//       window.isSecureContext and location.protocol), then the panel ("panel STATE |
//       status | message | viewers | phone link") once its state is not a passing one (or
//       one of STATES, comma-separated); then, for every line "wait STATES" on stdin, prints
//       it again once the state is one of those, for "viewers URI..." once it lists exactly
//       those, and for "try" what the page gets trying what only local programs may do
//       through confab.js's own API (tries() below), until "done".
//       --public: the page's address counts as public (Chromium's address-space
//       override), so reaching the service needs the Local Network Access permission,
//       --lna granted|denied set through the browser's permission API.
//       --spki HASH: trust a TLS server certificate whose SubjectPublicKeyInfo has this
//       base64 SHA-256 (an https PAGE_URL served with a test CA's certificate).
//       --as-host NAME: open PAGE_URL under the host name NAME, which the browser
//       resolves to PAGE_URL's address (an http page that is not a secure context).
//   node web.mjs tabs URL_A URL_B
//       one visitor, two tabs: A is opened and joins; B is opened in front and takes the
//       call; A is brought back to the front and takes it back. Prints each tab's panel
//       after each step and waits for "next" on stdin between steps. (Headless Chromium
//       keeps every tab visible: see front() for how the switch is completed.)
//
// Prints one line per step; exits non-zero on any failure or timeout.
import { chromium } from "playwright-core";

import { nextLine, run, setLocalNetworkAccess, waitFor } from "./driver.mjs";

const [mode, pageUrl, ...rest] = process.argv.slice(2);
const flag = (name) => { const i = rest.indexOf(name); return i >= 0 ? rest[i + 1] : null; };
const asHost = flag("--as-host");
const address = new URL(pageUrl);  // where the page really is (the address-space override names it)
const url = asHost ? Object.assign(new URL(pageUrl), {hostname: asHost}).href : pageUrl;
const timeout = 20000;
const origin = new URL(url).origin;
const lna = flag("--lna");
const publicPage = rest.includes("--public");
const spki = flag("--spki");
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync",
         ...(publicPage ? [`--ip-address-space-overrides=${address.host}=public`] : []),
         ...(asHost ? [`--host-resolver-rules=MAP ${asHost} ${address.hostname}`] : []),
         ...(spki ? [`--ignore-certificate-errors-spki-list=${spki}`] : [])],
});

const PASSING = ["starting", "connecting", "joining"];

// A browser context of its own and its first page; --lna sets the page origin's
// Local Network Access permission through the browser's permission API (CDP).
async function visitor(name) {
  const context = await browser.newContext();
  context.on("page", (p) => p.on("pageerror", (e) => console.log(`${name} page error: ${e.message}`)));
  const page = await context.newPage();
  if (lna) await setLocalNetworkAccess(context, page, origin, lna);
  return {context, page};
}

// The panel of a page, as the visitor sees it.
async function panel(page) {
  return page.evaluate(() => {
    const q = (s) => document.querySelector(s);
    return {state: q(".confab-status").dataset.state, status: q(".confab-status").textContent,
            message: q(".confab-message").hidden ? "" : q(".confab-message").textContent,
            viewers: [...document.querySelectorAll(".confab-viewers li")].map((li) => li.dataset.uri).sort(),
            source: q(".confab-viewers").dataset.source || "",
            phone: q(".confab-phone").hidden ? "" : q(".confab-phone").getAttribute("href"),
            visibility: document.visibilityState};
  });
}
const line = (p) => `${p.state} | ${p.status} | ${p.message} | ${p.viewers.join(" ")} | ${p.phone}`;

async function stateIn(page, states) {
  await page.waitForFunction((s) => {
    const e = document.querySelector(".confab-status");
    return e && s.includes(e.dataset.state);
  }, states, { timeout });
  return panel(page);
}

async function settled(page) {
  await page.waitForFunction((passing) => {
    const e = document.querySelector(".confab-status");
    return e && !passing.includes(e.dataset.state);
  }, PASSING, { timeout });
  return panel(page);
}

async function viewersAre(page, uris) {
  const want = [...uris].sort();
  await page.waitForFunction((w) => {
    const got = [...document.querySelectorAll(".confab-viewers li")].map((li) => li.dataset.uri).sort();
    return JSON.stringify(got) === JSON.stringify(w);
  }, want, { timeout });
}

async function visitors(nextPath, services) {
  const pages = [];
  for (const [i, service] of services.entries()) {
    const { page } = await visitor(`v${i + 1}`);
    await page.goto(`${url}?confab-service=${encodeURIComponent(service)}`);
    pages.push(page);
  }
  for (const [i, page] of pages.entries()) {
    const p = await settled(page);
    if (p.state !== "joined") throw new Error(`visitor ${i + 1}: ${line(p)}`);
  }
  // Each page lists the three; the service's roster, not the site's.
  for (const page of pages) await page.waitForFunction(() => {
    const v = document.querySelector(".confab-viewers");
    return v.dataset.source === "service" && v.children.length === 3;
  }, null, { timeout });
  const lists = [];
  for (const page of pages) lists.push((await panel(page)).viewers);
  console.log(`ready ${JSON.stringify(lists)}`);
  await waitFor("move");
  const [mover, ...others] = pages;
  const before = lists[1];
  const clicked = Date.now();
  await mover.click(`a[href="${nextPath}"]`);
  console.log(`moved at ${clicked}`);
  // The others' lists drop the mover: the members both of them still list, less one.
  await Promise.all(others.map((page) => page.waitForFunction((n) => {
    return document.querySelectorAll(".confab-viewers li").length === n;
  }, before.length - 1, { timeout })));
  console.log(`dropped after ${Date.now() - clicked} ms`);
  await mover.waitForURL(`**${nextPath}*`, { timeout });
  const p = await stateIn(mover, ["joined", "failed", "declined", "closed", "error"]);
  if (p.state !== "joined") throw new Error(`the mover's new page: ${line(p)}`);
  console.log(`joined next ${line(p)}`);
  const after = [];
  for (const page of pages) after.push((await panel(page)).viewers);
  console.log(`after ${JSON.stringify(after)}`);
  await waitFor("done");
}

// What a script of the page gets trying, through confab.js's own API, what the
// service keeps for local programs: a raw SIP request (Tunnel) and approving
// another origin. {connect: "ok" or the ConfabError's code, then for each message
// sent "CODE reason" of its refusal, or "ok ..." had it been done}.
async function tries(page, service) {
  return page.evaluate(async (service) => {
    const {Confab} = await import("/confab.js");
    let confab;
    try {
      confab = await Confab.connect(service ? {service} : {});  // else its default address
    } catch (e) {
      return {connect: e.code};
    }
    const out = {connect: "ok"};
    const messages = {Tunnel: {type: "Tunnel", text: "OPTIONS sip:127.0.0.1:5080 SIP/2.0\r\n\r\n"},  // the conference
                      Approve: {type: "Approve", origin: "http://evil.example"}};
    for (const [name, message] of Object.entries(messages)) {
      try {
        out[name] = `ok ${JSON.stringify(await confab.request(message))}`;
      } catch (e) {
        out[name] = `${e.code} ${e.result ? e.result.reason : e.message}`;
      }
    }
    confab.close();
    return out;
  }, service);
}

async function onePanel() {
  const { page } = await visitor("v1");
  const service = flag("--service");
  await page.goto(service ? `${url}?confab-service=${encodeURIComponent(service)}` : url);
  console.log(`context ${JSON.stringify(await page.evaluate(() => ({secure: window.isSecureContext,
                                                                      protocol: location.protocol})))}`);
  const until = flag("--until");
  console.log(`panel ${line(until ? await stateIn(page, until.split(",")) : await settled(page))}`);
  for (;;) {
    const l = await nextLine();
    if (l === "done") return;
    if (l.startsWith("wait ")) console.log(`panel ${line(await stateIn(page, l.slice(5).split(",")))}`);
    if (l.startsWith("viewers ")) {
      await viewersAre(page, l.slice(8).split(" "));
      console.log(`panel ${line(await panel(page))}`);
    }
    if (l === "try") console.log(`tried ${JSON.stringify(await tries(page, service))}`);
  }
}

// Headless Chromium reports every tab visible, whichever is in front, so the
// tab switch is completed here as a browser's tab strip does it: the tab
// brought to the front becomes visible and the other hidden, each told with
// a visibilitychange event.
async function front(page, others) {
  const set = (state) => {
    Object.defineProperty(document, "visibilityState", {value: state, configurable: true});
    Object.defineProperty(document, "hidden", {value: state === "hidden", configurable: true});
    document.dispatchEvent(new Event("visibilitychange"));
  };
  for (const other of others) await other.evaluate(set, "hidden");
  await page.bringToFront();
  await page.evaluate(set, "visible");
}

async function tabs(urlB) {
  const { context, page: a } = await visitor("v1");
  await a.goto(url);
  const show = async (step) => console.log(`${step} A: ${line(await panel(a))} (${(await panel(a)).visibility})`);
  let p = await stateIn(a, ["joined", "failed", "declined", "closed"]);
  if (p.state !== "joined") throw new Error(`tab A: ${line(p)}`);
  await show("a-opened");
  await waitFor("next");
  const b = await context.newPage();
  await front(b, [a]);
  await b.goto(urlB);
  p = await stateIn(b, ["joined"]);
  await stateIn(a, ["elsewhere"]);
  console.log(`b-front B: ${line(p)} (${(await panel(b)).visibility})`);
  await show("b-front");
  await waitFor("next");
  await front(a, [b]);
  await stateIn(a, ["joined"]);
  await stateIn(b, ["elsewhere"]);
  await show("a-front");
  console.log(`a-front B: ${line(await panel(b))} (${(await panel(b)).visibility})`);
  await waitFor("done");
}

await run(browser, async () => {
  if (mode === "visitors") await visitors(rest[0], rest.slice(1));
  else if (mode === "panel") await onePanel();
  else if (mode === "tabs") await tabs(rest[0]);
  else throw new Error("unknown mode " + mode);
});
