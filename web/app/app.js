// runway's mobile web app. Plain ES modules, no build step: runway serves
// these files at /app as they are in web/app/.
//
// Talks to the same REST API as native apps (docs/openapi.json): direct
// uploads, the realtime event stream (SSE with a ticket), the inbox, Web
// Push subscriptions, account deletion. DOM is built with textContent,
// never innerHTML, so nothing from the server is ever parsed as markup.

const API = location.origin;
const store = window.localStorage;

// ------------------------------------------------------------------ session

const session = {
  get access() { return store.getItem("runway.access"); },
  get refresh() { return store.getItem("runway.refresh"); },
  get email() { return store.getItem("runway.email"); },
  save(auth) {
    store.setItem("runway.access", auth.access_token);
    store.setItem("runway.refresh", auth.refresh_token);
    if (auth.user) store.setItem("runway.email", auth.user.email);
  },
  clear() {
    for (const k of ["runway.access", "runway.refresh", "runway.email"]) store.removeItem(k);
  },
};

class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.code = problem?.code || "http_error";
  }
}

let refreshing = null;
async function refreshSession() {
  if (!session.refresh) return false;
  refreshing ??= fetch(`${API}/v1/auth/refresh`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ refresh_token: session.refresh }),
  }).then(async (r) => {
    if (!r.ok) return false;
    session.save(await r.json());
    return true;
  }).finally(() => { refreshing = null; });
  return refreshing;
}

/// Call the API; refreshes the access token once on 401.
async function api(method, path, body, retry = true) {
  const headers = {};
  if (session.access) headers.Authorization = `Bearer ${session.access}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const r = await fetch(`${API}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (r.status === 401 && retry && session.refresh && (await refreshSession())) {
    return api(method, path, body, false);
  }
  if (r.status === 204) return null;
  const type = r.headers.get("content-type") || "";
  const data = type.includes("json") ? await r.json() : null;
  if (!r.ok) throw new ApiError(r.status, data);
  return data;
}

// ------------------------------------------------------------------ helpers

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) node.append(c);
  return node;
}

function status(text) {
  document.getElementById("status").textContent = text;
}

function show(title, ...content) {
  const view = document.getElementById("view");
  view.replaceChildren(el("h2", { text: title }), ...content);
  document.title = `${title} · runway`;
  view.focus({ preventScroll: true });
}

function bytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

function errorText(e) {
  return e instanceof ApiError ? `${e.message} (${e.code})` : String(e.message || e);
}

// ------------------------------------------------------------------ events

let events = null;
const listeners = new Set();

/// The user's event stream: a ticket (EventSource cannot send headers),
/// reopened with a fresh ticket and the last event id when it fails.
async function connectEvents(lastId) {
  if (!session.access) return;
  let ticket;
  try {
    ticket = (await api("POST", "/v1/events/tickets")).ticket;
  } catch {
    setTimeout(() => connectEvents(lastId), 5000);
    return;
  }
  let url = `${API}/v1/events?ticket=${encodeURIComponent(ticket)}`;
  if (lastId) url += `&last_event_id=${encodeURIComponent(lastId)}`;
  const source = new EventSource(url);
  events = source;
  let last = lastId;
  const forward = (e) => {
    last = e.lastEventId || last;
    const data = JSON.parse(e.data);
    for (const l of listeners) l(e.type, data);
  };
  for (const kind of ["media.processing", "media.ready", "media.failed", "notification.received", "device.pruned"]) {
    source.addEventListener(kind, forward);
  }
  source.onopen = () => status("Live");
  source.onerror = () => {
    // EventSource retries by itself; a refused ticket (expired) ends it.
    if (source.readyState === EventSource.CLOSED && events === source) {
      status("Reconnecting…");
      setTimeout(() => connectEvents(last), 1000);
    }
  };
}

function disconnectEvents() {
  events?.close();
  events = null;
}

function onEvent(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

// ------------------------------------------------------------------ screens

function signIn() {
  document.getElementById("tabs").hidden = true;
  const error = el("p", { class: "error", role: "alert" });
  const email = el("input", { id: "email", type: "email", autocomplete: "email", required: true });
  const password = el("input", { id: "password", type: "password", autocomplete: "current-password", required: true, minlength: 8 });
  const submit = async (path, button) => {
    error.textContent = "";
    if (!email.reportValidity() || !password.reportValidity()) return;
    button.disabled = true;
    try {
      session.save(await api("POST", path, { email: email.value, password: password.value }));
      connectEvents();
      location.hash = "#/photos";
    } catch (e) {
      error.textContent = errorText(e);
    } finally {
      button.disabled = false;
    }
  };
  const signInButton = el("button", { type: "submit", text: "Sign in" });
  const signUpButton = el("button", { type: "button", class: "secondary", text: "Create account" });
  signUpButton.addEventListener("click", () => submit("/v1/auth/register", signUpButton));
  const form = el("form", { "aria-labelledby": "auth-title", onsubmit: (e) => { e.preventDefault(); submit("/v1/auth/login", signInButton); } },
    el("label", { for: "email", text: "Email" }), email,
    el("label", { for: "password", text: "Password (at least 8 characters)" }), password,
    error,
    el("div", { class: "row" }, signInButton, signUpButton));
  show("Sign in or create an account", form);
  document.querySelector("#view h2").id = "auth-title";
}

/// A photo tile: the ThumbHash placeholder at the photo's aspect ratio,
/// swapped for the thumbnail once the photo is ready.
function tile(media) {
  const link = el("a", { class: "tile", href: `#/photos/${media.id}`, "data-id": media.id });
  renderTile(link, media);
  return link;
}

function renderTile(link, media) {
  const w = media.width || 1, h = media.height || 1;
  link.style.aspectRatio = `${w} / ${h}`;
  link.dataset.status = media.status;
  if (media.placeholder) link.style.background = media.placeholder.dominant_color;
  const thumb = media.variants?.thumb?.url;
  const src = thumb || media.placeholder?.data_url;
  const label = media.status === "ready" ? "Photo" : media.status === "failed" ? "Photo that could not be processed" : "Photo being processed";
  const children = [];
  if (src) children.push(el("img", { src, alt: label, "data-kind": thumb ? "thumbnail" : "placeholder" }));
  if (media.status !== "ready") {
    children.push(el("span", { class: "badge", text: media.status === "failed" ? `failed: ${media.error?.code}` : "processing" }));
  }
  link.setAttribute("aria-label", label);
  link.replaceChildren(...children);
}

async function photos() {
  const grid = el("div", { class: "grid", id: "grid", "aria-live": "polite" });
  const progress = el("p", { class: "muted", role: "status" });
  const input = el("input", { id: "file", type: "file", accept: "image/jpeg,image/png,image/webp,image/gif,image/heic,image/heif" });
  input.addEventListener("change", async () => {
    const file = input.files?.[0];
    input.value = "";
    if (file) await upload(file, grid, progress);
  });
  const pick = el("label", { for: "file", class: "button", text: "Upload a photo" });
  show("Photos", el("div", { class: "upload" }, input, pick, progress), grid);
  const stop = onEvent((kind, data) => {
    if (!kind.startsWith("media.")) return;
    const m = data.media;
    const existing = grid.querySelector(`[data-id="${m.id}"]`);
    if (existing) {
      // An older event never replaces a newer state.
      if (existing.dataset.status === "ready" && m.status !== "ready") return;
      renderTile(existing, m);
    } else {
      document.getElementById("empty")?.remove();
      grid.prepend(tile(m));
    }
  });
  leave = stop;
  try {
    const page = await api("GET", "/v1/media?limit=60");
    for (const m of page.items) {
      if (!grid.querySelector(`[data-id="${m.id}"]`)) grid.append(tile(m));
    }
    if (!page.items.length && !grid.children.length) {
      grid.before(el("p", { class: "muted", id: "empty", text: "No photos yet." }));
    }
  } catch (e) {
    progress.textContent = errorText(e);
  }
}

/// The direct-upload flow: ask for a URL, send the bytes there, complete.
async function upload(file, grid, progress) {
  try {
    progress.textContent = `Uploading ${file.name} (${bytes(file.size)})…`;
    const type = file.type || "image/jpeg";
    const grant = await api("POST", "/v1/media/uploads", { content_type: type, bytes: file.size });
    const put = await fetch(grant.upload_url, { method: grant.method, headers: grant.headers, body: file });
    if (!put.ok) throw new Error(`the upload was refused (HTTP ${put.status})`);
    const media = await api("POST", `/v1/media/${grant.media_id}/complete`);
    document.getElementById("empty")?.remove();
    if (!grid.querySelector(`[data-id="${media.id}"]`)) grid.prepend(tile(media));
    progress.textContent = `${file.name} uploaded; processing…`;
  } catch (e) {
    progress.textContent = `Upload failed: ${errorText(e)}`;
  }
}

async function photo(id) {
  let m;
  try {
    m = await api("GET", `/v1/media/${id}`);
  } catch (e) {
    show("Photo", el("p", { class: "error", text: errorText(e) }));
    return;
  }
  const best = m.variants.large || m.variants.small || m.variants.thumb;
  const rows = Object.entries(m.variants)
    .sort((a, b) => a[1].width - b[1].width)
    .map(([name, v]) => el("tr", {},
      el("th", { scope: "row" }, el("a", { href: v.url, text: name })),
      el("td", { text: `${v.width} × ${v.height}` }),
      el("td", { text: bytes(v.bytes) }),
      el("td", { text: v.content_type })));
  if (m.original) {
    rows.push(el("tr", {},
      el("th", { scope: "row" }, el("a", { href: m.original.url, text: "original (no location)" })),
      el("td", { text: `${m.original.width} × ${m.original.height}` }),
      el("td", { text: bytes(m.original.bytes) }),
      el("td", { text: m.original.content_type })));
  }
  const remove = el("button", { class: "danger", text: "Delete photo" });
  remove.addEventListener("click", async () => {
    if (!confirm("Delete this photo and all its sizes?")) return;
    await api("DELETE", `/v1/media/${id}`);
    location.hash = "#/photos";
  });
  show("Photo",
    el("div", { class: "card detail" },
      best ? el("img", { src: best.url, alt: "The photo", width: best.width, height: best.height }) : el("p", { text: m.status }),
      el("p", { class: "muted", text: `${m.width} × ${m.height} · ${m.content_type} · uploaded ${new Date(m.created_at).toLocaleString()}` }),
      el("table", {},
        el("caption", { class: "muted", text: "Every size, as stored" }),
        el("thead", {}, el("tr", {}, ...["Variant", "Size", "Bytes", "Type"].map((t) => el("th", { scope: "col", text: t })))),
        el("tbody", {}, rows)),
      el("div", { class: "row" }, el("a", { class: "button secondary", href: "#/photos", text: "Back" }), remove)));
}

async function inbox() {
  const list = el("ul", { class: "inbox", "aria-live": "polite" });
  show("Notifications", list);
  const item = (n) => el("li", { "data-id": n.notification_id || n.id },
    el("strong", { text: n.title || "(no title)" }),
    el("span", { text: n.body || "" }));
  leave = onEvent((kind, data) => {
    if (kind !== "notification.received") return;
    if (list.querySelector(`[data-id="${data.notification_id}"]`)) return;
    list.querySelector(".empty")?.remove();
    list.prepend(item(data));
  });
  try {
    const page = await api("GET", "/v1/me/notifications");
    for (const n of page.items) if (!list.querySelector(`[data-id="${n.id}"]`)) list.append(item(n));
    if (!list.children.length) list.append(el("li", { class: "empty muted", text: "Nothing yet." }));
  } catch (e) {
    list.replaceChildren(el("li", { class: "error", text: errorText(e) }));
  }
}

function base64UrlToBytes(s) {
  const raw = atob(s.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (s.length % 4)) % 4));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

/// Register the service worker, subscribe to Web Push with runway's VAPID
/// key, and register the subscription as a device.
async function enableNotifications(out) {
  if (!("serviceWorker" in navigator) || !("PushManager" in window)) {
    out.textContent = "This browser has no Web Push.";
    return;
  }
  try {
    const registration = await navigator.serviceWorker.register("sw.js", { scope: "./" });
    await navigator.serviceWorker.ready;
    let config;
    try {
      config = await api("GET", "/v1/push/web");
    } catch (e) {
      out.textContent = `The service worker is installed, but this server has no Web Push: ${errorText(e)}`;
      return;
    }
    if ((await Notification.requestPermission()) !== "granted") {
      out.textContent = "Notifications were not allowed.";
      return;
    }
    const sub = await registration.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: base64UrlToBytes(config.vapid_public_key),
    });
    const json = sub.toJSON();
    await api("POST", "/v1/devices", {
      platform: "web",
      endpoint: json.endpoint,
      keys: json.keys,
      locale: navigator.language,
      timezone: Intl.DateTimeFormat().resolvedOptions().timeZone,
    });
    out.textContent = "Notifications are on for this browser.";
  } catch (e) {
    out.textContent = `Could not enable notifications: ${errorText(e)}`;
  }
}

async function profile() {
  const out = el("p", { role: "status", class: "muted" });
  const enable = el("button", { text: "Enable notifications" });
  enable.addEventListener("click", () => enableNotifications(out));
  const signOut = el("button", { class: "secondary", text: "Sign out" });
  signOut.addEventListener("click", async () => {
    try { await api("POST", "/v1/auth/logout", { refresh_token: session.refresh }); } catch { /* signed out anyway */ }
    disconnectEvents();
    session.clear();
    location.hash = "#/";
  });
  const remove = el("button", { class: "danger", text: "Delete account" });
  remove.addEventListener("click", async () => {
    if (!confirm("Delete your account, photos and devices? This cannot be undone.")) return;
    try {
      await api("DELETE", "/v1/me");
      disconnectEvents();
      session.clear();
      location.hash = "#/";
      status("Account deleted");
    } catch (e) {
      out.textContent = errorText(e);
    }
  });
  let me = null;
  try { me = await api("GET", "/v1/me"); } catch { /* shown below */ }
  show("Profile",
    el("div", { class: "card" },
      el("p", { text: me ? `Signed in as ${me.email}` : "Signed in" }),
      el("div", { class: "row" }, enable, signOut, remove),
      out));
}

// ------------------------------------------------------------------ router

let leave = null;

async function route() {
  leave?.();
  leave = null;
  const hash = location.hash || "#/";
  if (!session.access) {
    signIn();
    return;
  }
  document.getElementById("tabs").hidden = false;
  const [, section, id] = hash.split("/");
  for (const a of document.querySelectorAll("#tabs a")) {
    if (a.dataset.tab === (section || "photos")) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  if (section === "photos" && id) return photo(id);
  if (section === "inbox") return inbox();
  if (section === "profile") return profile();
  if (hash !== "#/photos") history.replaceState(null, "", "#/photos");
  return photos();
}

window.addEventListener("hashchange", route);
window.addEventListener("DOMContentLoaded", () => {
  if (session.access) connectEvents();
  route();
});
