// What the Confab links extension counts as a joinable URI (extension/links.js, plain
// functions, run here in Node without a browser): for each text, the URIs found and
// what they join. Prints "ok N" or a "FAILED" line per wrong case (exit status 1).
//
//   node extension_links.mjs
import { readFileSync } from "node:fs";
import { EXTENSION_DIR } from "./extension_browser.mjs";

new Function(readFileSync(`${EXTENSION_DIR}/links.js`, "utf8"))();
const L = globalThis.ConfabLinks;

const found = (text) => L.find(text).map((f) => [f.text, f.target]);
const cases = [
  // [text, [[matched text, target]...]]
  ["standup at conf:standup.", [["conf:standup", "conf:standup"]]],
  ["call sip:alice@example.com:5060;transport=tcp, or tel:+1-555-0100!",
   [["sip:alice@example.com:5060;transport=tcp", "sip:alice@example.com:5060;transport=tcp"],
    ["tel:+1-555-0100", "tel:+15550100"]]],
  ["(sip:bob@x.org) and \"sips:carol@[2001:db8::1]:5061\"",
   [["sip:bob@x.org", "sip:bob@x.org"], ["sips:carol@[2001:db8::1]:5061", "sips:carol@[2001:db8::1]:5061"]]],
  ["SIP:Bob@X.org", [["SIP:Bob@X.org", "sip:Bob@X.org"]]],
  ["alice: sip:a@b.c", [["sip:a@b.c", "sip:a@b.c"]]],
  // never links
  ["javascript:alert(1)", []],
  ["javascript:sip:x@y.com JavaScript://sip:y@example.com data:text/html,sip:a@b.com xsip:a@b.c", []],
  ["sip:alice<img src=x onerror=alert(1)>@example.com", []],
  ["sip:bob@x.org\"onclick=alert(1)", []],
  ["sip:a@b.com`x` sip:a@b.com{x} sip:a@b.com|x sip:a@b.com\\x sip:a@b.com^x", []],
  ["sip:@host sip:user@ sip:a@@b.com sip:a@b..com sip:a@-b.com sip:a@b.com:99999", []],
  ["sips:x@example.com?subject=hi sip:a@b.com?Replaces=x", []],
  ["tel:12 tel:abc tel:+ tel:123456789012345678901", []],
  ["conf: conf:-x conf:a/b conf:a@b conf:" + "x".repeat(65), []],
  ["sip:" + "a".repeat(600) + "@example.com", []],
];
let failed = 0;
for (const [text, want] of cases) {
  const got = found(text);
  if (JSON.stringify(got) !== JSON.stringify(want)) {
    failed++;
    console.log(`FAILED ${JSON.stringify(text).slice(0, 80)}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
  }
}
const resolved = [
  [L.resolve("conf:standup", "127.0.0.1:5080"), "sip:standup@127.0.0.1:5080"],
  [L.resolve("conf:standup", "conf.example.com"), "sip:standup@conf.example.com"],
  [L.resolve("conf:standup", "x y"), null],
  [L.resolve("conf:standup", "a@b"), null],
  [L.resolve("conf:standup", null), null],
  [L.resolve("sip:a@b.com", null), "sip:a@b.com"],
  [L.resolve("javascript:alert(1)", "x"), null],
  [L.resolve({toString: () => "sip:a@b.com"}, "x"), null],
];
for (const [got, want] of resolved)
  if (got !== want) {
    failed++;
    console.log(`FAILED resolve: got ${got}, want ${want}`);
  }
if (failed) process.exitCode = 1;
else console.log(`ok ${cases.length + resolved.length}`);
