// The camera grid (/grid): every camera the token may see (or ?cameras=a,b), one tile
// each, all over a single WebSocket. A tile opens the overlay of its camera.

import { CourtsideClient } from "/static/sdk/courtside.js";
import { fetchJson, readToken } from "./page.js";
import { CameraView } from "./view.js";

const $ = (id) => document.getElementById(id);
const token = readToken();
const only = new URLSearchParams(location.search).get("cameras");
const wanted = only ? only.split(",").filter(Boolean) : null;
const tiles = new Map(); // camera -> {view, label}
let untrainedAt = -Infinity;

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
  link.append(canvas, label);
  const grid = $("grid");
  const after = [...grid.querySelectorAll(".tile")].find((el) => el.dataset.camera > camera);
  link.dataset.camera = camera;
  grid.insertBefore(link, after ?? null);
  $("empty").hidden = true;
  t = { view: new CameraView(canvas, camera), label, state: "" };
  tiles.set(camera, t);
  return t;
}

client.on("open", () => ($("conn").dataset.state = "open"));
client.on("close", () => ($("conn").dataset.state = "reconnecting"));
client.on("video", (frame) => tile(frame.camera)?.view.onVideo(frame));
client.on("annotation", (ann) => {
  if (ann.weights === "untrained") untrainedAt = performance.now();
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
    const lat = t.view.latencyMs == null ? "" : ` · ${Math.round(t.view.latencyMs)} ms`;
    t.label.textContent = `${camera} · ${t.state || "live"} · ${t.view.fps.toFixed(0)} fps${lat}`;
  }
  $("summary").textContent = `${tiles.size} camera${tiles.size === 1 ? "" : "s"} · ${fps.toFixed(0)} fps total`;
  $("banner").hidden = performance.now() - untrainedAt > 10000;
}, 500);

client.connect();
client.subscribe(wanted ? { cameras: wanted, video: "jpeg" } : { video: "jpeg" });
fetchJson("/api/cameras", token)
  .then((body) => body.cameras.forEach((c) => tile(c.id)))
  .catch((err) => console.warn("courtside: camera list unavailable:", err));
