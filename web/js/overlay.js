// The live overlay page (/): one camera, video + annotations, HUD, model toggles, banner.
// URL: /?camera=<id>&hide=<model,...>#token=<bearer token> (the fragment never reaches a server).

import { CourtsideClient } from "../sdk/courtside.js";
import { modelColor } from "./render.js";
import { readToken, fetchJson } from "./page.js";
import { CameraView, untrainedDrawn, untrainedMessage } from "./view.js";

const $ = (id) => document.getElementById(id);

const params = new URLSearchParams(location.search);
const token = readToken();
let camera = params.get("camera");
const hidden = new Set((params.get("hide") || "").split(",").filter(Boolean));
const view = new CameraView($("view"), camera, hidden);
const cameras = new Set();
const models = new Map(); // name -> {state, weights}
let dropped = 0;
let connection = "connecting";

const client = new CourtsideClient({ token });
window.__courtside = { client, view, models, get camera() { return camera; } }; // for tests and debugging

client.on("open", () => setConnection("open"));
client.on("close", (e) => setConnection(e.reconnectInMs == null ? "closed" : "reconnecting"));
client.on("video", (frame) => {
  if (frame.camera === camera) view.onVideo(frame);
});
client.on("annotation", (ann) => {
  noteCamera(ann.camera);
  if (!camera) selectCamera(ann.camera);
  if (ann.camera !== camera) return;
  noteModel(ann.model, { weights: ann.weights, trainedOn: ann.trained_on });
  view.onAnnotation(ann);
});
client.on("status", (status) => {
  for (const id of Object.keys(status.cameras)) noteCamera(id);
  for (const [name, m] of Object.entries(status.models)) {
    if (!camera || m.cameras.includes(camera) || !m.cameras.length) noteModel(name, m);
  }
  if (!camera) {
    const live = Object.entries(status.cameras).find(([, c]) => c.live);
    if (live) selectCamera(live[0]);
  }
});
client.on("dropped", (d) => (dropped = d.total));
client.on("error", (e) => console.warn("courtside:", e.code, e.message));

$("camera").addEventListener("change", (e) => selectCamera(/** @type {HTMLSelectElement} */ (e.target).value));
$("stage").addEventListener("dblclick", () => {
  if (document.fullscreenElement) document.exitFullscreen();
  else document.documentElement.requestFullscreen?.().catch(() => {});
});

function setConnection(state) {
  connection = state;
  $("conn").dataset.state = state;
  $("conn").title = state;
}

function selectCamera(id) {
  if (!id || id === camera) return;
  camera = id;
  noteCamera(id);
  /** @type {HTMLSelectElement} */ ($("camera")).value = id;
  const url = new URL(location.href);
  url.searchParams.set("camera", id);
  history.replaceState(null, "", url);
  document.title = `${id} · Courtside`;
  view.camera = id;
  view.reset();
  models.clear();
  $("models").replaceChildren();
  client.subscribe({ cameras: [id], video: "jpeg" });
  $("placeholder").textContent = `Waiting for ${id}…`;
}

function noteCamera(id) {
  if (cameras.has(id)) return;
  cameras.add(id);
  const select = /** @type {HTMLSelectElement} */ ($("camera"));
  const option = new Option(id, id);
  const after = [...select.options].find((o) => o.value > id);
  select.insertBefore(option, after ?? null);
  if (id === camera) select.value = id;
}

function noteModel(name, info) {
  const known = models.get(name);
  models.set(name, { ...known, ...info });
  if (known) return;
  const label = document.createElement("label");
  label.className = "toggle";
  const box = document.createElement("input");
  box.type = "checkbox";
  box.checked = !hidden.has(name);
  box.dataset.model = name;
  box.addEventListener("change", () => {
    if (box.checked) hidden.delete(name);
    else hidden.add(name);
    view.schedule();
  });
  const swatch = document.createElement("span");
  swatch.className = "swatch";
  swatch.style.background = modelColor(name);
  const text = document.createElement("span");
  text.className = "model-name";
  text.textContent = name;
  label.append(box, swatch, text);
  $("models").append(label);
}

function renderHud() {
  const parts = [];
  parts.push(`${view.fps.toFixed(1)} fps`);
  if (view.ageMs != null) parts.push(`age ${Math.round(view.ageMs)} ms`);
  if (view.videoAgeMs != null) parts.push(`video ${Math.round(view.videoAgeMs)} ms`);
  if (dropped) parts.push(`dropped ${dropped}`);
  $("hud-stats").textContent = parts.join(" · ");
  const drawn = new Map(view.drawn.map((d) => [d.model, d]));
  const states = [...models].map(([n, m]) => {
    const d = drawn.get(n);
    const weights = m.weights === "untrained" ? " (untrained)" : m.trainedOn ? ` (trained on ${m.trainedOn})` : "";
    return `${n}: ${m.state ?? "live"}${d ? ` ${Math.round(d.ageMs)} ms` : ""}${weights}`;
  });
  $("hud-models").textContent = states.join(" · ");
  const untrained = untrainedDrawn(view);
  $("banner").hidden = !untrained.length;
  if (untrained.length) $("banner").textContent = untrainedMessage(untrained);
  $("placeholder").hidden = view.framesDrawn > 0;
}
setInterval(renderHud, 250);

async function start() {
  client.connect();
  if (camera) {
    noteCamera(camera);
    client.subscribe({ cameras: [camera], video: "jpeg" });
    $("placeholder").textContent = `Waiting for ${camera}…`;
  } else {
    client.subscribe({ video: "none" }); // discover cameras, then pick one
  }
  try {
    const body = await fetchJson("/api/cameras", token);
    for (const c of body.cameras) noteCamera(c.id);
    if (!camera && body.cameras.length) selectCamera((body.cameras.find((c) => c.live) ?? body.cameras[0]).id);
  } catch (err) {
    console.warn("courtside: camera list unavailable:", err);
  }
}
start();
