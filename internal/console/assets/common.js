// Shared by the console's pages: JSON calls, the event stream, small DOM helpers.
"use strict";

const wb = {
  // api calls the console's JSON API; it throws an Error with the server's message.
  async api(method, path, body) {
    const opts = { method, headers: {} };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    const resp = await fetch(path, opts);
    let data = null;
    try { data = await resp.json(); } catch (e) { /* not JSON */ }
    if (!resp.ok) {
      throw new Error((data && data.error) || resp.status + " " + resp.statusText);
    }
    return data;
  },

  // stream opens the event stream and calls onEvent with each parsed event. The browser
  // reconnects by itself, sending the last id so that nothing is missed.
  stream(onEvent) {
    const conn = document.getElementById("conn");
    const es = new EventSource("/api/events");
    es.onopen = () => { if (conn) { conn.textContent = "live"; conn.className = "conn live"; } };
    es.onerror = () => { if (conn) { conn.textContent = "reconnecting"; conn.className = "conn down"; } };
    es.onmessage = (m) => {
      let e;
      try { e = JSON.parse(m.data); } catch (err) { return; }
      onEvent(e);
    };
    return es;
  },

  // el builds an element: el("td", {class: "num"}, "42", child, ...).
  el(tag, attrs, ...children) {
    const n = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") n.className = v;
      else if (k === "text") n.textContent = v;
      else n.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat()) {
      if (c === undefined || c === null) continue;
      n.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return n;
  },

  clock(ms) {
    const d = ms ? new Date(ms) : new Date();
    return d.toLocaleTimeString([], { hour12: false });
  },
};
