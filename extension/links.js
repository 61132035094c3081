// Confab links: what counts as a joinable URI in a page's text. Shared by the
// content script (which finds them) and the background worker (which checks
// again what a content script asks to join). Plain functions, no DOM.
//
//   sip:USER@HOST[:PORT][;param[=value]...]   sips: likewise
//   tel:+NUMBER (digits with - . ( ) as visual separators, 3 to 20 digits)
//   conf:NAME   the conference shorthand: sip:NAME@<the service's conference_server>
//
// Anything else is not a link: other schemes (javascript:, data:, ...), a scheme
// glued to a word or URI before it ("javascript:sip:..."), URIs with headers (?...), a
// URI broken by markup characters (< > " ` { } | \ ^), URIs over 512 characters.
"use strict";

globalThis.ConfabLinks = (() => {
  const MAX_URI = 512;
  // A scheme not glued to what precedes it, then the characters a URI may hold.
  // (Glued: after a letter, digit or URI punctuation, as in "javascript:sip:..." or "data:,sip:...".)
  const CANDIDATE = /(?<![A-Za-z0-9\-_.!~*;:&=+$,%@\/?#])(sips?|tel|conf):[A-Za-z0-9\-_.!~*();:&=+$,%@\/?#\[\]]+/gi;
  const MARKUP = /[<>"`{}|\\^]/;
  const LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?";
  const SIP = new RegExp("^(sips?):([A-Za-z0-9\\-_.!~*()&=+$,%]+)@(" + LABEL + "(?:\\." + LABEL + ")*|\\[[0-9A-Fa-f:.]+\\])" +
                         "(?::([0-9]{1,5}))?((?:;[A-Za-z0-9\\-_.!~*%]+(?:=[A-Za-z0-9\\-_.!~*%]+)?)*)$", "i");
  const TEL = /^tel:(\+?[0-9](?:[0-9\-.()]*[0-9])?)$/i;
  const CONF = /^conf:([A-Za-z0-9](?:[A-Za-z0-9._-]{0,62}[A-Za-z0-9])?)$/i;
  const HOST_PORT = /^[A-Za-z0-9.\-]+(?::[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](?::[0-9]{1,5})?$/;

  // Punctuation that ends a sentence rather than the URI; a ) or ] only when unbalanced.
  function trimTail(text) {
    for (;;) {
      const last = text[text.length - 1];
      if (".,;:!?".includes(last)) text = text.slice(0, -1);
      else if (last === ")" && text.split("(").length < text.split(")").length) text = text.slice(0, -1);
      else if (last === "]" && text.split("[").length < text.split("]").length) text = text.slice(0, -1);
      else return text;
    }
  }

  // {kind: "sip"|"tel"|"conf", target} for a well-formed URI, else null. `target` is
  // what the API's Join takes (conf: stays "conf:NAME" until resolve() knows the host).
  function classify(text) {
    if (typeof text !== "string" || text.length > MAX_URI) return null;
    let m = SIP.exec(text);
    if (m) {
      if (m[4] && Number(m[4]) > 65535) return null;
      return {kind: "sip", target: m[1].toLowerCase() + text.slice(m[1].length)};
    }
    if ((m = TEL.exec(text))) {
      const digits = m[1].replace(/[^0-9]/g, "").length;
      if (digits < 3 || digits > 20) return null;
      return {kind: "tel", target: "tel:" + m[1].replace(/[-.()]/g, "")};
    }
    if ((m = CONF.exec(text))) return {kind: "conf", target: "conf:" + m[1]};
    return null;
  }

  // The joinable URIs in `text`: [{start, end, text, kind, target}] in order.
  function find(text) {
    const found = [];
    if (text.indexOf(":") < 0) return found;
    CANDIDATE.lastIndex = 0;
    let m;
    while ((m = CANDIDATE.exec(text))) {
      const start = m.index;
      const after = text[start + m[0].length];
      const quoted = after === '"' && text[start - 1] === '"';
      if (after !== undefined && MARKUP.test(after) && !quoted) continue;  // markup inside the URI: not a link
      const uri = trimTail(m[0]);
      const c = classify(uri);
      if (c) found.push({start, end: start + uri.length, text: uri, kind: c.kind, target: c.target});
    }
    return found;
  }

  // The SIP URI to join for `target`: conf:NAME -> sip:NAME@conferenceServer; null if
  // it is not a joinable URI or (for conf:) no valid conference server is known.
  function resolve(target, conferenceServer) {
    const c = classify(target);
    if (!c) return null;
    if (c.kind !== "conf") return c.target;
    if (typeof conferenceServer !== "string" || !HOST_PORT.test(conferenceServer)) return null;
    return "sip:" + c.target.slice(5) + "@" + conferenceServer;
  }

  return {find, classify, resolve, MAX_URI};
})();
