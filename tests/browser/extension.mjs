// Drives Chromium with the Confab links extension (extension/) on plain chat-like
// pages (served by the browser itself through request routing, at http://chat.test/).
//
//   node extension.mjs join HOST_SCRIPT|none [no-service]
//       a page with conf:standup and a sip: URI in its messages. Prints "links JSON"
//       (text, href of each link the extension made, once the conf: one has its
//       sip: address from the service's settings), then for each stdin line:
//         click TEXT         click the link TEXT          -> "notice KIND TEXT"
//         shift-click TEXT   the same with Shift (choose the device) -> "notice KIND TEXT"
//         post TEXT          a new message TEXT arrives   -> "linked JSON" (the links in it)
//         done               ends
//   node extension.mjs hostile HOST_SCRIPT
//       a page of hostile text and page-script tricks; prints "links JSON" (all links
//       made), "injected N" (elements the page did not write: img/script/iframe),
//       "tricks JSON" (what the page's scripts could reach), "1mb MS" (how long the
//       1 MB text node took), "after JSON" (the links of a message posted after it).
//   node extension.mjs bench MESSAGES NEW
//       a page of MESSAGES chat messages (1 in 10 with a URI), then NEW messages one at
//       a time; prints "page MS LINKS" (the content script's first scan) and
//       "new median MS p99 MS max MS" (its work per message) and
//       "visible median MS p99 MS" (from append to the link in the DOM, URI messages).
//
// HOST_SCRIPT: the native messaging host program (see extension_browser.mjs).
// Exits non-zero with "FAILED why" on any error or timeout.
import { nextLine, run } from "./driver.mjs";
import { launchWithExtension } from "./extension_browser.mjs";

const [mode, ...args] = process.argv.slice(2);
const timeout = 30000;
const URL_ = "http://chat.test/";

const CHAT = `<!doctype html><meta charset=utf-8><title>chat</title>
<div id=log>
<div class=msg><b>alice</b>: standup at conf:standup, everyone</div>
<div class=msg><b>bob</b>: or dial sip:standup@127.0.0.1:5080 directly.</div>
<div class=msg><b>carol</b>: no links here</div>
</div>
<script>
window.post = (text) => {
  const d = document.createElement("div");
  d.className = "msg";
  d.textContent = text;
  document.getElementById("log").append(d);
  return d;
};
</script>`;

const hostScript = mode === "bench" || args[0] === "none" ? null : args[0];
const { context } = await launchWithExtension({ nativeHost: hostScript });

async function open(html) {
  const page = await context.newPage();
  await page.route(URL_, (r) => r.fulfill({ contentType: "text/html", body: html }));
  await page.goto(URL_);
  return page;
}

const linksOf = (page, root = "body") => page.evaluate((sel) =>
  [...document.querySelector(sel).querySelectorAll("a.confab-link")].map((a) => ({
    text: a.textContent, href: a.getAttribute("href") })), root);

// The notice once it shows a result (not "Joining…").
async function notice(page) {
  const h = await page.waitForFunction(() => {
    const box = document.querySelector("confab-notice")?.shadowRoot?.querySelector("[role=status]");
    return box && box.dataset.kind !== "busy" && !box.hidden ? [box.dataset.kind, box.textContent] : null;
  }, null, { timeout: 90000 });
  return await h.jsonValue();
}

async function join() {
  const page = await open(CHAT);
  if (hostScript && args[1] !== "no-service") {  // the conf: link gets its address from the service's settings, through the host
    await page.waitForSelector('a.confab-link[href^="sip:standup@"]', { timeout, state: "attached" });
    await page.waitForFunction(() => document.querySelectorAll("a.confab-link[href]").length >= 2, null, { timeout });
  } else {
    await page.waitForFunction(() => document.querySelectorAll("a.confab-link").length >= 2, null, { timeout });
  }
  console.log("links " + JSON.stringify(await linksOf(page)));
  for (;;) {
    const line = await nextLine();
    const [cmd, ...rest] = line.split(" ");
    const text = rest.join(" ");
    if (cmd === "done") return;
    if (cmd === "click" || cmd === "shift-click") {
      await page.locator("a.confab-link", { hasText: text }).first()
        .click({ modifiers: cmd === "shift-click" ? ["Shift"] : [], timeout });
      const [kind, says] = await notice(page);
      console.log(`notice ${kind} ${says}`);
    } else if (cmd === "post") {
      const n = await page.evaluate(() => document.querySelectorAll("#log .msg").length);
      await page.evaluate((t) => window.post(t), text);
      await page.waitForFunction((i) => {
        const m = document.querySelectorAll("#log .msg")[i];
        return m && m.querySelector("a.confab-link[href]");
      }, n, { timeout });
      console.log("linked " + JSON.stringify(await linksOf(page, `#log .msg:nth-child(${n + 1})`)));
    } else {
      throw new Error("unknown command " + line);
    }
  }
}

const HOSTILE = `<!doctype html><meta charset=utf-8><title>hostile</title>
<div id=log>
<div class=msg id=js>javascript:alert(1) and JavaScript:sip:x@example.com and javascript://sip:y@example.com</div>
<div class=msg id=markup1>sip:alice&lt;img src=x onerror="window.pwned=1"&gt;@example.com</div>
<div class=msg id=markup2>sip:al<b>ice</b>@example.com and sip:bob@exa<i>mple</i>.com</div>
<div class=msg id=markup3>sip:eve@example.com"&gt;&lt;script&gt;window.pwned=2&lt;/script&gt; conf:x&lt;svg onload=alert(1)&gt;</div>
<div class=msg id=malformed>sip:@example.com sip:bob@ sip:a@@b.com sip:a@b..com tel:12 tel:abc conf: conf:-x
  sips:x@example.com?subject=hi sip:a@b.com:99999 data:text/html,sip:a@b.com xsip:a@b.com</div>
<input id=in value="sip:in@input.example.com">
<textarea id=ta>sip:in@textarea.example.com</textarea>
<div id=ce contenteditable>sip:in@editable.example.com <span>conf:inedit</span></div>
<code>sip:in@code.example.com</code><pre>conf:inpre</pre>
<a href="https://example.com/">sip:in@link.example.com</a>
<script>var s = "sip:in@script.example.com";</script><style>/* sip:in@style.example.com */</style>
<div class=msg id=nick><b>dan:</b>sip:dan@example.com</div>
<div class=msg id=good>control: sip:good@example.com</div>
</div>
<script>window.post = (text) => { const d = document.createElement("div"); d.className = "msg";
  d.textContent = text; document.getElementById("log").append(d); return d; };</script>`;

async function hostile() {
  const page = await open(HOSTILE);
  await page.waitForSelector("#good a.confab-link", { timeout, state: "attached" });
  // Text that arrives later in places that must stay text.
  await page.evaluate(() => {
    document.getElementById("ta").value = "sip:later@textarea.example.com";
    document.getElementById("ce").append(document.createTextNode(" sip:later@editable.example.com"));
    document.querySelector("code").append(document.createTextNode(" sip:later@code.example.com"));
    document.querySelector("a[href^=\"https\"]").append(document.createTextNode(" sip:later@link.example.com"));
    window.post("later: javascript:sip:z@example.com sip:later<b>@example.com");
  });
  // A 1 MB message, full of almost-URIs and markup, then a normal one: linked as before.
  const ms = await page.evaluate(async () => {
    const chunk = "sip:big@example.com<img src=x onerror=window.pwned=3> conf:big ";
    const t0 = performance.now();
    window.post(chunk.repeat(Math.ceil((1 << 20) / chunk.length)));
    await new Promise((r) => setTimeout(r, 0));
    return performance.now() - t0;
  });
  const control = await page.evaluate(() => window.post("after: conf:afterwards").outerHTML);
  await page.waitForSelector("#log .msg:last-child a.confab-link", { timeout, state: "attached" });
  console.log("links " + JSON.stringify(await linksOf(page)));
  console.log("injected " + await page.evaluate(() =>
    document.querySelectorAll("img, iframe, svg, object, embed").length + document.querySelectorAll("script").length - 2));
  console.log("1mb " + ms.toFixed(1));
  console.log("after " + JSON.stringify(await linksOf(page, "#log .msg:last-child")) + " " + control.length);
  // Page scripts trying to reach the extension and, through it, the service.
  const tricks = await page.evaluate(async () => {
    const out = {};
    out.pwned = window.pwned || 0;
    out.runtime = typeof (window.chrome && window.chrome.runtime && window.chrome.runtime.sendMessage);
    try {
      await window.chrome.runtime.sendMessage("iblkjdlcnnnhdjmlfaiejalbmcbcfkgo", { action: "join", target: "sip:evil@example.com" });
      out.sendMessage = "sent";
    } catch (e) { out.sendMessage = "refused: " + e.message; }
    for (const m of [{ action: "join", target: "sip:evil@example.com" }, { type: "Join", id: "sip:evil@example.com" },
                     "join sip:evil@example.com"])
      window.postMessage(m, "*");
    const a = document.querySelector("#good a.confab-link");
    a.click();  // untrusted: no join
    a.dispatchEvent(new MouseEvent("click", { bubbles: true, shiftKey: true }));
    a.dispatchEvent(new KeyboardEvent("keydown", { bubbles: true, key: "Enter" }));
    await new Promise((r) => setTimeout(r, 1500));
    const box = document.querySelector("confab-notice")?.shadowRoot?.querySelector("[role=status]");
    out.notice = box ? box.textContent : null;  // no notice: no join was even attempted
    return out;
  });
  console.log("tricks " + JSON.stringify(tricks));
}

function stats(values) {
  const v = [...values].sort((a, b) => a - b);
  const at = (q) => v[Math.min(v.length - 1, Math.floor(q * v.length))];
  return { median: at(0.5), p99: at(0.99), max: v[v.length - 1] };
}

async function bench() {
  const [messages, fresh] = [Number(args[0] || 10000), Number(args[1] || 300)];
  const uris = ["sip:room{i}@conf.example.com", "conf:team{i}", "tel:+1-555-01{i}"];
  const line = (i) => i % 10 === 0
    ? `user${i % 37}: meet at ${uris[i % 3].replace("{i}", String(i % 100).padStart(2, "0"))} in five`
    : `user${i % 37}: message number ${i} about things, no address here, just a colon: ok`;
  let html = "<!doctype html><meta charset=utf-8><title>bench</title><div id=log>";
  for (let i = 0; i < messages; i++) html += `<div class=msg><b>user${i % 37}</b> <span>${line(i)}</span></div>`;
  html += `</div><script>window.post = (text) => { const d = document.createElement("div"); d.className = "msg";
    d.textContent = text; document.getElementById("log").append(d); return d; };</script>`;
  const page = await open(html);
  const scan = await page.waitForFunction(() => {
    const s = document.documentElement.dataset.confabScan;
    return s && s.startsWith("page ") ? s : null;
  }, null, { timeout });
  const [, , ms, links] = (await scan.jsonValue()).split(" ");
  console.log(`page ${ms} ${links}`);
  const work = [], visible = [];
  for (let i = 0; i < fresh; i++) {
    const r = await page.evaluate(async (text) => {
      const before = document.documentElement.dataset.confabScan;
      const t0 = performance.now();
      const d = window.post(text);
      // Until the content script has handled this message (its report changes).
      for (let k = 0; k < 1000 && document.documentElement.dataset.confabScan === before; k++)
        await new Promise((r) => setTimeout(r, 0));
      return { seen: performance.now() - t0, report: document.documentElement.dataset.confabScan,
               linked: !!d.querySelector("a.confab-link") };
    }, line(messages + i));
    const [what, , cost, n] = r.report.split(" ");
    if (what !== "mutation") throw new Error("no scan after message " + i);
    work.push(Number(cost));
    if (Number(n) > 0) {
      if (!r.linked) throw new Error("message " + i + " not linked");
      visible.push(r.seen);
    }
  }
  const w = stats(work), v = stats(visible);
  console.log(`new median ${w.median.toFixed(3)} p99 ${w.p99.toFixed(3)} max ${w.max.toFixed(3)} n ${work.length}`);
  console.log(`visible median ${v.median.toFixed(3)} p99 ${v.p99.toFixed(3)} n ${visible.length}`);
}

await run(context, { join, hostile, bench }[mode] || (async () => { throw new Error("unknown mode " + mode); }));
