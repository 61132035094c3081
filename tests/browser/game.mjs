// Drives Debian's Chromium (playwright-core) through the game page of `confab game`.
//
//   node game.mjs walk GAME_URL
//       two players (Ann, Bob) join in two browser contexts; Ann holds the right
//       arrow key until her zone changes; Bob's page sees her in the new zone
//   node game.mjs voice GAME_URL [--lna-denied]
//       (a world with voice = "client") Ann joins; prints what the page says of
//       her voice once it is on or failed; when on, walks east into the next zone
//       and prints the voice again once the call has moved, then leaves.
//       --lna-denied: the page's address counts as public and the browser's Local
//       Network Access permission is refused
//
//   node game.mjs scene GAME_URL SIP_ANN SIP_BOB SIP_CAT [SERVICE_ANN SERVICE_BOB SERVICE_CAT]
//       the paper's scene (voice = "server"; with the players' services' WebSocket
//       URLs, voice = "client", each page driving its own): Ann, Bob and Cat join
//       (in nw, ne and sw), Bob walks west into Ann's zone; once every voice is
//       on it prints "ready" and each page's roster, then waits for a line
//       "walk" on stdin: Ann walks south into Cat's zone ("ann crossed into sw
//       at EPOCH_MS"), and once the pages' rosters show it prints them again
//       and waits for "done".
//
// Prints one line per step; exits non-zero on any failure or timeout.
import { chromium } from "playwright-core";

import { run, setLocalNetworkAccess, waitFor } from "./driver.mjs";

const [mode, url, ...flags] = process.argv.slice(2);
const lnaDenied = flags.includes("--lna-denied");
const timeout = 20000;
const origin = new URL(url).origin;
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync",
         ...(lnaDenied ? [`--ip-address-space-overrides=${new URL(url).host}=public`] : [])],
});

// A new page in a context of its own, joined as `name`; returns it once welcomed.
// `service`: the player's own Confab service (client voice), else the default one.
async function player(name, sip, service) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on("pageerror", (e) => console.log(`${name} page error: ${e.message}`));
  if (lnaDenied) await setLocalNetworkAccess(context, page, origin, "denied");
  await page.goto(service ? `${url}?service=${encodeURIComponent(service)}` : url);
  await page.locator("#status", { hasText: "not connected" }).waitFor({ timeout });
  await page.fill("#name", name);
  if (sip) await page.fill("#sip", sip);
  await page.click("#join-button");
  await page.locator("#zone").filter({ hasText: /\w/ }).waitFor({ timeout });
  const zone = await page.textContent("#zone");
  console.log(`${name.toLowerCase()} joined in ${zone}`);
  return page;
}

// Holds a key until the player's zone is no longer `from`; returns the new zone.
async function walkOut(page, key) {
  const from = await page.textContent("#zone");
  await page.focus("#map");
  await page.keyboard.down(key);
  await page.waitForFunction((z) => document.getElementById("zone").textContent !== z, from, { timeout });
  await page.keyboard.up(key);
  return page.textContent("#zone");
}

// The voice line once its state is one of `states`.
async function voiceWhen(page, states) {
  await page.waitForFunction((s) => s.includes(document.getElementById("voice").dataset.state), states, { timeout });
  return `${await page.textContent("#voice")} ${await page.textContent("#voice-reason")}`;
}

async function walk() {
  const ann = await player("Ann", "sip:ann@127.0.0.1:5062");
  const bob = await player("Bob", "sip:bob@127.0.0.1:5064");
  const before = Number(await bob.getAttribute('#players li[data-name="Ann"]', "data-x"));
  const zone = await walkOut(ann, "ArrowRight");
  console.log(`ann walked into ${zone}`);
  await bob.locator(`#players li[data-name="Ann"][data-zone="${zone}"]`).waitFor({ timeout });
  const after = Number(await bob.getAttribute('#players li[data-name="Ann"]', "data-x"));
  if (!(after > before)) throw new Error(`Bob's page shows Ann at x ${after}, before ${before}`);
  console.log(`bob saw ann in ${zone}`);
  // Ann's panel: her zone first in what she hears, no voice and no button without conferences.
  const hears = await ann.locator("#hears li").evaluateAll((lis) => lis.map((li) => li.dataset.zone));
  const voice = await ann.getAttribute("#voice", "data-state");
  const button = await ann.isVisible("#call-again");
  const mine = await ann.getAttribute("#players li.me", "data-name");
  if (hears[0] !== zone || voice !== "off" || button || mine !== "Ann")
    throw new Error(`ann's panel: hears ${hears}, voice ${voice}, call-again shown ${button}, me ${mine}`);
  console.log("the other player's roster and hears: ok");
}

async function voice() {
  const ann = await player("Ann");
  const first = await voiceWhen(ann, ["on", "failed"]);
  console.log(`voice: ${first}`);
  if (!first.startsWith("on")) return;
  await ann.locator("#roster li").first().waitFor({ timeout });
  console.log(`roster: ${await ann.locator("#roster li").allTextContents()}`);
  const zone = await walkOut(ann, "ArrowRight");
  console.log(`ann walked into ${zone}`);
  await ann.waitForFunction((z) => {
    const v = document.getElementById("voice");
    return v.dataset.state === "on" && document.getElementById("voice-reason").textContent.includes(`-${z}@`);
  }, zone, { timeout });
  console.log(`voice moved: ${await voiceWhen(ann, ["on"])}`);
  await ann.locator("#roster li").first().waitFor({ timeout });
  console.log(`roster: ${await ann.locator("#roster li").allTextContents()}`);
  await ann.click("#leave");
  await ann.locator("#join").waitFor({ timeout });
  console.log("left");
}

// Each page's zone and roster (the zone's members as the page shows them), one line.
async function rosters(pages) {
  const out = {};
  for (const [name, page] of Object.entries(pages))
    out[name] = {zone: await page.textContent("#zone"),
                 roster: (await page.locator("#roster li").evaluateAll((lis) => lis.map((li) => li.dataset.uri))).sort()};
  return JSON.stringify(out);
}

// Waits until every page's roster lists exactly the SIP addresses of the players in its zone.
async function rostersSettle(pages, sips) {
  for (let i = 0; i < 200; ++i) {
    const r = JSON.parse(await rosters(pages));
    const ok = Object.entries(r).every(([name, v]) => {
      const expect = Object.entries(r).filter(([, w]) => w.zone === v.zone).map(([n]) => sips[n]).sort();
      return JSON.stringify(v.roster) === JSON.stringify(expect);
    });
    if (ok) return;
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new Error(`the rosters do not match the zones: ${await rosters(pages)}`);
}

async function scene(sipAnn, sipBob, sipCat, serviceAnn, serviceBob, serviceCat) {
  const sips = {ann: sipAnn, bob: sipBob, cat: sipCat};
  const pages = {ann: await player("Ann", sipAnn, serviceAnn), bob: await player("Bob", sipBob, serviceBob),
                 cat: await player("Cat", sipCat, serviceCat)};
  const annZone = await pages.ann.textContent("#zone");
  const bobZone = await walkOut(pages.bob, "ArrowLeft");
  if (bobZone !== annZone) throw new Error(`bob walked into ${bobZone}, not ${annZone}`);
  for (const [name, page] of Object.entries(pages)) {
    const v = await voiceWhen(page, ["on", "failed"]);
    if (!v.startsWith("on")) throw new Error(`${name}'s voice: ${v}`);
  }
  await rostersSettle(pages, sips);
  console.log(`ready ${await rosters(pages)}`);
  await waitFor("walk");
  const catZone = await pages.cat.textContent("#zone");
  const from = annZone;
  await pages.ann.focus("#map");
  await pages.ann.keyboard.down("ArrowDown");
  await pages.ann.waitForFunction((z) => document.getElementById("zone").textContent !== z, from, { timeout });
  const crossed = Date.now();
  await pages.ann.keyboard.up("ArrowDown");
  const zone = await pages.ann.textContent("#zone");
  if (zone !== catZone) throw new Error(`ann walked into ${zone}, not ${catZone}`);
  console.log(`ann crossed into ${zone} at ${crossed}`);
  await rostersSettle(pages, sips);
  console.log(`after ${await rosters(pages)}`);
  await waitFor("done");
}

await run(browser, async () => {
  if (mode === "scene") await scene(...flags);
  else if (mode === "walk") await walk();
  else if (mode === "voice") await voice();
  else throw new Error("unknown mode " + mode);
});
