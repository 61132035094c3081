"""RFC 4575 conference-info documents as the tests see them: a structural check
(namespace, required attributes, child order and values of the schema in
RFC 4575 section 5) and a small reader."""
import xml.etree.ElementTree as ET

NS = "urn:ietf:params:xml:ns:conference-info"
STATES = {"full", "partial", "deleted"}
STATUSES = {"pending", "dialing-out", "dialing-in", "alerting", "on-hold", "connected", "muted-via-focus",
            "disconnecting", "disconnected"}
ORDER = {
    "conference-info": ["conference-description", "host-info", "conference-state", "users", "sidebars-by-ref",
                        "sidebars-by-val"],
    "conference-description": ["display-text", "subject", "free-text", "keywords", "conf-uris", "service-uris",
                               "maximum-user-count", "available-media"],
    "conference-state": ["user-count", "active", "locked"],
    "user": ["display-text", "associated-aors", "roles", "languages", "cascaded-focus", "endpoint"],
    "endpoint": ["display-text", "referred", "status", "joining-method", "joining-info", "disconnection-method",
                 "disconnection-info", "media", "call-info"],
}


def _local(el):
    assert el.tag.startswith("{" + NS + "}"), f"element {el.tag} is not in the conference-info namespace"
    return el.tag[len(NS) + 2:]


def _check_order(el):
    name = _local(el)
    order = ORDER.get(name)
    if order is None:
        return
    last = -1
    for child in el:
        cname = _local(child)
        if cname not in order:
            continue
        i = order.index(cname)
        assert i >= last, f"<{cname}> after <{order[last]}> in <{name}>"
        last = i


def validate(text):
    """Parses and checks a conference-info document; returns the root element."""
    root = ET.fromstring(text.encode() if isinstance(text, str) else text)
    assert _local(root) == "conference-info", f"root is {root.tag}"
    assert root.get("entity", "").startswith("sip:"), "conference-info needs an entity URI"
    assert root.get("state", "full") in STATES, root.get("state")
    assert root.get("version", "").isdigit(), "conference-info needs a numeric version"
    for el in root.iter():
        _check_order(el)
        name = _local(el)
        if name in ("user", "endpoint"):
            assert el.get("entity"), f"<{name}> without entity"
            assert el.get("state", "full") in STATES
        if name == "endpoint":
            for st in el.findall("{%s}status" % NS):
                assert st.text in STATUSES, f"bad endpoint status {st.text}"
        if name == "media":
            for st in el.findall("{%s}status" % NS):
                assert st.text in ("recvonly", "sendonly", "sendrecv", "inactive"), f"bad media status {st.text}"
        if name in ("active", "locked"):
            assert el.text in ("true", "false"), f"<{name}> {el.text}"
        if name in ("user-count", "maximum-user-count"):
            assert el.text.isdigit()
    return root


def read(text):
    """(state, version, {user entity: user state}, user-count or None) of a document."""
    root = validate(text)
    users = {u.get("entity"): u.get("state", "full") for u in root.iter("{%s}user" % NS)}
    count = root.find("{%s}conference-state/{%s}user-count" % (NS, NS))
    return root.get("state", "full"), int(root.get("version")), users, int(count.text) if count is not None else None


def replay(documents):
    """Applies documents in order as a subscriber must (RFC 4575 4.6): returns the
    set of users present after the last, checking each version follows the last."""
    present, version = set(), None
    for text in documents:
        state, v, users, _ = read(text)
        if state == "full":
            assert version is None or v > version, f"full state version {v} after {version}"
            present = {u for u, s in users.items() if s != "deleted"}
        else:
            assert version is not None, "partial state before any full state"
            assert v == version + 1, f"partial version {v} after {version}"
            for u, s in users.items():
                if s == "deleted":
                    present.discard(u)
                else:
                    present.add(u)
        version = v
    return present
