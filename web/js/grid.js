// The camera grid (/grid): every camera the token may see (or ?cameras=a,b), one tile
// each, all over a single WebSocket. A tile opens the overlay of its camera.

import { CourtsideClient } from "../sdk/courtside.js";
import { fetchJson, readToken } from "./page.js";
import { CameraView, untrainedDrawn, untrainedMessage } from "./view.js";

const $ = (id) => document.getElementById(id);
const token = readToken();
const only = new URLSearchParams(location.search).get("cameras");
const wanted = only ? only.split(",").filter(Boolean) : null;
const tiles = new Map(); // camera -> {view, label}

const client = new CourtsideClient({ token });
window.__courtside = { client, tiles };

function tile(camera) {
  let t = tiles.get(camera);
  if (t) return t;
  if (wanted && !wanted.includes(camera)) return null;
  const link = document.createElement("a");
  link.className = "tile";
  link.href = `/?camera=${encodeURIComponent(camera)}`;
  const canvas = document.createElement("canvas");
  canvas.width = 640;
  canvas.height = 360;
  const label = document.createElement("span");
  label.className = "tile-label";
  label.textContent = camera;
  const banner = document.createElement("span");
  banner.className = "banner tile-banner";
  banner.setAttribute("role", "alert");
  banner.hidden = true;
  link.append(canvas, label, banner);
  const grid = $("grid");
  const existing = /** @type {NodeListOf<HTMLElement>} */ (grid.querySelectorAll(".tile"));
  const after = [...existing].find((el) => el.dataset.camera > camera);
  link.dataset.camera = camera;
  grid.insertBefore(link, after ?? null);
  $("empty").hidden = true;
  t = { view: new CameraView(canvas, camera), label, banner, state: "" };
  tiles.set(camera, t);
  return t;
}

client.on("open", () => ($("conn").dataset.state = "open"));
client.on("close", () => ($("conn").dataset.state = "reconnecting"));
client.on("video", (frame) => tile(frame.camera)?.view.onVideo(frame));
client.on("annotation", (ann) => {
  tile(ann.camera)?.view.onAnnotation(ann);
});
client.on("status", (status) => {
  for (const [id, cam] of Object.entries(status.cameras)) {
    const t = tile(id);
    if (t) t.state = cam.state;
  }
});

setInterval(() => {
  let fps = 0;
  for (const [camera, t] of tiles) {
    fps += t.view.fps;
    const age = t.view.ageMs == null ? "" : ` · age ${Math.round(t.view.ageMs)} ms`;
    t.label.textContent = `${camera} · ${t.state || "live"} · ${t.view.fps.toFixed(0)} fps${age}`;
    const untrained = untrainedDrawn(t.view); // over this tile only: the others' models may be trained
    t.banner.hidden = !untrained.length;
    if (untrained.length) t.banner.textContent = untrainedMessage(untrained);
  }
  $("summary").textContent = `${tiles.size} camera${tiles.size === 1 ? "" : "s"} · ${fps.toFixed(0)} fps total`;
}, 500);

client.connect();
client.subscribe(wanted ? { cameras: wanted, video: "jpeg" } : { video: "jpeg" });
fetchJson("/api/cameras", token)
  .then((body) => body.cameras.forEach((c) => tile(c.id)))
  .catch((err) => console.warn("courtside: camera list unavailable:", err));
