// The Confab links extension in Debian's Firefox ESR (puppeteer-core over WebDriver
// BiDi): installed from extension/ as a temporary add-on (BiDi webExtension.install),
// its native messaging host found in $HOME/.mozilla/native-messaging-hosts of a
// temporary HOME, a chat page served on loopback by this script.
//
//   node extension_firefox.mjs HOST_SCRIPT
//       prints "links JSON" (text, href of each link made, once the conf: one has its
//       address from the service's settings); on "click" clicks conf:standup and prints
//       "notice KIND TEXT"; on "shift-click" Shift+clicks the sip: link likewise; "done" ends.
//
// Exits non-zero with "FAILED why" on any error or timeout.
import puppeteer from "puppeteer-core";
import http from "node:http";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { nextLine, run } from "./driver.mjs";
import { EXTENSION_DIR, NATIVE_HOST } from "./extension_browser.mjs";

const [hostScript] = process.argv.slice(2);
const timeout = 30000;
const FIREFOX_ID = "confab-links@confab";

const home = mkdtempSync(join(tmpdir(), "confab-ff-"));
mkdirSync(join(home, ".mozilla", "native-messaging-hosts"), { recursive: true });
writeFileSync(join(home, ".mozilla", "native-messaging-hosts", NATIVE_HOST + ".json"), JSON.stringify({
  name: NATIVE_HOST, description: "Confab native messaging host (test)", path: hostScript, type: "stdio",
  allowed_extensions: [FIREFOX_ID],
}));
const server = http.createServer((req, res) => {
  res.setHeader("Content-Type", "text/html; charset=utf-8");
  res.end(`<!doctype html><title>chat</title><div id=log>
<div class=msg>alice: standup at conf:standup, everyone</div>
<div class=msg>bob: or dial sip:standup@127.0.0.1:5080 directly.</div></div>`);
}).listen(0, "127.0.0.1");
await new Promise((r) => server.on("listening", r));

const browser = await puppeteer.launch({ browser: "firefox", executablePath: "/usr/bin/firefox-esr", headless: true,
                                         env: { ...process.env, HOME: home } });

async function notice(page) {
  const h = await page.waitForFunction(() => {
    const box = document.querySelector("confab-notice")?.shadowRoot?.querySelector("[role=status]");
    return box && box.dataset.kind !== "busy" && !box.hidden ? [box.dataset.kind, box.textContent] : null;
  }, { timeout: 90000 });
  return await h.jsonValue();
}

await run(browser, async () => {
  const r = await browser.connection.send("webExtension.install",
                                          { extensionData: { type: "path", path: EXTENSION_DIR } });
  if (r.result.extension !== FIREFOX_ID) throw new Error("installed as " + JSON.stringify(r.result));
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  await page.waitForFunction(() => document.querySelectorAll("a.confab-link[href]").length === 2, { timeout });
  console.log("links " + JSON.stringify(await page.evaluate(() =>
    [...document.querySelectorAll("a.confab-link")].map((a) => ({ text: a.textContent, href: a.getAttribute("href") })))));
  for (;;) {
    const line = await nextLine();
    if (line === "done") break;
    if (line === "click") await page.click("a.confab-link[data-confab-kind=conf]");
    else if (line === "shift-click") {
      await page.keyboard.down("Shift");
      await page.click("a.confab-link[data-confab-kind=sip]");
      await page.keyboard.up("Shift");
    } else throw new Error("unknown command " + line);
    const [kind, says] = await notice(page);
    console.log(`notice ${kind} ${says}`);
  }
});
server.close();
try { rmSync(home, { recursive: true, force: true, maxRetries: 5 }); } catch { /* left in /tmp */ }
