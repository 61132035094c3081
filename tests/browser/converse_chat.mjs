// Drives two (or more) chat users, each in a Chromium of their own (own profile) with the
// Confab links extension loaded (extension_browser.mjs), logged in to one group room in
// converse.js (converse.html: the unmodified web XMPP client) over Prosody's WebSocket.
//
//   node converse_chat.mjs CONFIG_JSON
//       CONFIG_JSON: {"page": "http://.../converse.html", "ws": "ws://...", "room": "room@muc",
//                     "users": [{"nick", "jid", "password", "host"}...]}
//       `host`: the native messaging host program of that user's browser (a script that runs
//       `confab native-host` against that user's service). Once every user is in the room and
//       sees every other one, prints "ready", then runs the commands on stdin, one a line:
//   say NICK TEXT        NICK types TEXT in the room's message box and sends it (Enter)
//                        -> "said NICK"
//   link NICK TEXT       waits until the last message holding TEXT in NICK's room shows a
//                        link made by the extension for TEXT -> "link NICK {json: href, kind}"
//   click NICK TEXT      NICK clicks that link (a real, trusted mouse click) -> "clicked NICK"
//   shift-click NICK TEXT  the same with Shift held (the extension asks for the device)
//   notice NICK          waits for the extension's notice to end its "busy" state ->
//                        "notice NICK {json: kind, text}"
//   seen NICK TEXT       waits until a message containing TEXT is in NICK's room -> "seen NICK
//                        {json: the room's message texts, in order}"
//   occupant NICK WHO    waits until WHO is in the room's occupant list in NICK's browser ->
//                        "occupant NICK WHO"
//   screenshot NICK PATH a PNG of NICK's page -> "screenshot NICK"
//   done                 closes the browsers and ends
//
// Every wait is bounded (TIMEOUT); any failure prints "FAILED <why>" and exits 1.
import { launchWithExtension } from "./extension_browser.mjs";
import { nextLine } from "./driver.mjs";

const TIMEOUT = 20000;
const config = JSON.parse(process.argv[2]);
const users = new Map();  // nick -> {context, page}
const closing = [];

function roomUrl(u) {
  const q = new URLSearchParams({ws: config.ws, jid: u.jid, password: u.password, room: config.room, nick: u.nick});
  return `${config.page}?${q}`;
}

async function openUser(u) {
  const { context } = await launchWithExtension({ nativeHost: u.host });
  closing.push(context);
  // Loopback only: anything the chat client would fetch from elsewhere is refused (and named).
  await context.route((url) => !["127.0.0.1", "localhost"].includes(url.hostname), (route) => {
    console.log(`${u.nick} refused a request to ${route.request().url()}`);
    return route.abort("blockedbyclient");
  });
  const page = await context.newPage();
  page.on("pageerror", (e) => console.log(`${u.nick} page error: ${e.message}`));
  page.on("console", (m) => { if (m.type() === "error") console.log(`${u.nick} console: ${m.text()}`); });
  page.on("response", (r) => { if (r.status() >= 400) console.log(`${u.nick} got ${r.status()} for ${r.url()}`); });
  await page.goto(roomUrl(u), { timeout: TIMEOUT });
  await page.locator("converse-muc textarea.chat-textarea").waitFor({ timeout: TIMEOUT });
  users.set(u.nick, { context, page });
}

function user(nick) {
  const u = users.get(nick);
  if (!u) throw new Error(`no user ${nick}`);
  return u.page;
}

// Every nick the room's occupant list shows in `page`.
const occupants = (page) => page.locator("converse-muc .occupant-nick").allTextContents()
  .then((names) => names.map((n) => n.trim()));

async function waitPresent(nick, nicks) {
  const page = user(nick);
  const deadline = Date.now() + TIMEOUT;
  for (;;) {
    const seen = await occupants(page);
    if (nicks.every((n) => seen.includes(n))) return;
    if (Date.now() > deadline) throw new Error(`${nick} sees occupants ${JSON.stringify(seen)}, not all of ${nicks}`);
    await page.waitForTimeout(100);
  }
}

// The body of the last message in the room holding `text` (its rendered text).
const lastMessage = (page, text) =>
  page.locator("converse-muc converse-chat-message .chat-msg__text", { hasText: text }).last();

async function link(nick, text) {
  const a = lastMessage(user(nick), text).locator("a.confab-link", { hasText: text }).last();
  await a.waitFor({ timeout: TIMEOUT });
  // The extension resolves conf: links once it has the service's conference server.
  const deadline = Date.now() + TIMEOUT;
  while (!(await a.getAttribute("href")) && Date.now() < deadline) await user(nick).waitForTimeout(50);
  return a;
}

async function notice(nick) {
  const box = user(nick).locator("confab-notice div[role=status]:not([data-kind=busy])");
  await box.waitFor({ state: "attached", timeout: TIMEOUT });
  return { kind: await box.getAttribute("data-kind"), text: (await box.textContent()).trim() };
}

async function messages(page) {
  return (await page.locator("converse-muc converse-chat-message .chat-msg__text").allTextContents())
    .map((t) => t.trim());
}

async function main() {
  // Each browser started before any failure is reported, so `finally` closes them all.
  const opened = await Promise.allSettled(config.users.map(openUser));
  const failed = opened.find((r) => r.status === "rejected");
  if (failed) throw failed.reason;
  for (const nick of users.keys()) await waitPresent(nick, [...users.keys()]);
  console.log("ready");
  for (;;) {
    const line = await nextLine();
    const [command, nick, ...words] = line.split(" ");
    const text = words.join(" ");
    if (command === "done") return;
    if (command === "say") {
      const box = user(nick).locator("converse-muc textarea.chat-textarea");
      await box.fill(text, { timeout: TIMEOUT });
      await box.press("Enter", { timeout: TIMEOUT });
      await lastMessage(user(nick), text).waitFor({ timeout: TIMEOUT });  // the room echoed it back
      console.log(`said ${nick}`);
    } else if (command === "link") {
      const a = await link(nick, text);
      console.log(`link ${nick} ` + JSON.stringify({ href: await a.getAttribute("href"),
                                                     kind: await a.getAttribute("data-confab-kind") }));
    } else if (command === "click" || command === "shift-click") {
      const a = await link(nick, text);
      await a.click({ modifiers: command === "shift-click" ? ["Shift"] : [], timeout: TIMEOUT });
      console.log(`clicked ${nick}`);
    } else if (command === "notice") {
      console.log(`notice ${nick} ` + JSON.stringify(await notice(nick)));
    } else if (command === "seen") {
      await lastMessage(user(nick), text).waitFor({ timeout: TIMEOUT });
      console.log(`seen ${nick} ` + JSON.stringify(await messages(user(nick))));
    } else if (command === "occupant") {
      await waitPresent(nick, [text]);
      console.log(`occupant ${nick} ${text}`);
    } else if (command === "screenshot") {
      await user(nick).screenshot({ path: text, timeout: TIMEOUT });
      console.log(`screenshot ${nick}`);
    } else {
      throw new Error(`unknown command: ${line}`);
    }
  }
}

try {
  await main();
} catch (e) {
  console.log("FAILED " + e.message.split("\n")[0]);
  process.exitCode = 1;
} finally {
  await Promise.all(closing.map((c) => c.close().catch(() => {})));
  process.stdin.destroy();
}
