// The game page in Debian's Firefox ESR (puppeteer-core over WebDriver BiDi):
//
//   node game_firefox.mjs walk GAME_URL
//       Ann joins, holds the right arrow key until her zone changes; her panel
//       shows the new zone and her own dot in it. Any script error fails it.
//
// Prints one line per step; exits non-zero on any failure or timeout.
import puppeteer from "puppeteer-core";

import { run } from "./driver.mjs";

const [mode, url] = process.argv.slice(2);
const timeout = 20000;
const browser = await puppeteer.launch({browser: "firefox", executablePath: "/usr/bin/firefox-esr", headless: true});
const errors = [];

async function walk() {
  const page = await browser.newPage();
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(url);
  await page.waitForFunction(() => document.getElementById("status").textContent.includes("not connected"), {timeout});
  await page.type("#name", "Ann");
  await page.type("#sip", "sip:ann@127.0.0.1:5062");
  await page.click("#join-button");
  await page.waitForFunction(() => /\w/.test(document.getElementById("zone").textContent), {timeout});
  const from = await page.$eval("#zone", (e) => e.textContent);
  console.log(`ann joined in ${from}`);
  await page.focus("#map");
  await page.keyboard.down("ArrowRight");
  await page.waitForFunction((z) => document.getElementById("zone").textContent !== z, {timeout}, from);
  await page.keyboard.up("ArrowRight");
  const zone = await page.$eval("#zone", (e) => e.textContent);
  await page.waitForFunction((z) => document.querySelector(`#players li.me[data-zone="${z}"]`), {timeout}, zone);
  console.log(`ann walked into ${zone}`);
  if (errors.length) throw new Error(`script errors: ${errors.join("; ")}`);
}

await run(browser, async () => {
  if (mode === "walk") await walk();
  else throw new Error("unknown mode " + mode);
});
